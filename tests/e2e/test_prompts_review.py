"""Suggestions and who may do what: members suggest (from /prompts or any post's button), admins review and manage.

The runner's clock starts on Friday 2026-11-27 at 12:00 UTC; schedules are Fridays 19:00 Europe/London.
"""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from bot.bot import AlignmentBot
from tests.e2e.conftest import BotRunner, Server
from tests.e2e.test_prompts import handled_now, marker_of, prompt_posts, schedule
from tests.fakediscord import FakeDiscord, InvalidInteraction, Permissions

ADMIN_COMMANDS = {
    "add", "edit", "remove", "list", "preview", "import", "review",
    "schedule", "status", "pause", "resume", "skip", "post-now", "stats",
}  # fmt: skip


async def test_suggestion_approved_then_posted(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """A member's suggestion goes to review, an admin approves it, the member is told, and it gets posted."""
    mods = server.guild.add_text_channel("mods")
    await fake.sync()
    await schedule(fake, server, server.general, mod_channel=mods)
    for prompt in await bot.db.prompts.list_prompts(server.guild.id, "approved", limit=100):
        await bot.db.prompts.update_prompt(server.guild.id, prompt.id, status="retired")
    opened = await fake.invoke(server.member, "prompts suggest", channel=server.general)
    text = "If an AI system could explain its reasoning perfectly, would that be enough for you to trust it?"
    thanks = await (
        await fake.submit_modal(server.member, opened, {"text": text, "title": "Trust and explanations"})
    ).reply()
    assert "waiting for an admin's review" in thanks.content
    review = await fake.wait_for_message(mods, lambda m: "Suggested prompt" in m.text)
    approve = next(cid for cid in review.custom_ids if cid.endswith(":approve"))
    decided = await (await fake.click(server.admin, review, approve)).reply()
    assert "approved" in decided.content
    dm = fake.world.dm_channel(server.member.user)
    told = await fake.wait_for_message(dm, lambda m: "approved" in m.content)
    assert "Trust" in told.content or "explain its reasoning" in told.content
    await runner.clock.advance(timedelta(hours=7))
    post = await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    assert post.embeds[0]["description"] == text


async def test_member_cannot_review(fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot) -> None:
    """A member without Manage Server cannot approve a suggestion."""
    mods = server.guild.add_text_channel("mods")
    await fake.sync()
    await schedule(fake, server, server.general, mod_channel=mods)
    opened = await fake.invoke(server.member, "prompts suggest", channel=server.general)
    await (
        await fake.submit_modal(server.member, opened, {"text": "What would convince you that alignment is solved?"})
    ).reply()
    review = await fake.wait_for_message(mods, lambda m: "Suggested prompt" in m.text)
    approve = next(cid for cid in review.custom_ids if cid.endswith(":approve"))
    refused = await (await fake.click(server.member, review, approve)).reply()
    assert refused.content == "Only members with Manage Server can review suggestions."


async def test_two_moderators_reviewing_at_once_one_wins(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """Approve and Reject clicked at the same moment: one decision stands, the other moderator hears who was first."""
    mods = server.guild.add_text_channel("mods")
    other = server.guild.add_member("carol", permissions=Permissions.MANAGE_GUILD)
    await runner.start()
    await schedule(fake, server, server.general, mod_channel=mods)
    opened = await fake.invoke(server.member, "prompts suggest", channel=server.general)
    text = "Should a lab pause if its own evaluations show deceptive behaviour it cannot explain?"
    await (await fake.submit_modal(server.member, opened, {"text": text})).reply()
    review = await fake.wait_for_message(mods, lambda m: "Suggested prompt" in m.text)
    approve = next(cid for cid in review.custom_ids if cid.endswith(":approve"))
    reject = next(cid for cid in review.custom_ids if cid.endswith(":reject"))
    clicks = [await fake.click(server.admin, review, approve), await fake.click(other, review, reject)]
    answers = [(await click.reply()).content for click in clicks]
    winners = [a for a in answers if a.startswith("Suggestion #")]
    losers = [a for a in answers if a.startswith("This suggestion was already")]
    assert len(winners) == 1 and len(losers) == 1
    first = server.admin if "approved" in winners[0] else other
    assert f"<@{first.id}>" in losers[0]
    dm = fake.world.dm_channel(server.member.user)
    await fake.wait_for_message(dm, lambda m: "suggestion" in m.content)
    await runner.clock.advance(timedelta(seconds=1))
    await fake.sync()
    assert len([m for m in fake.messages_in(dm) if "suggestion" in m.content]) == 1


async def test_the_button_under_a_post_opens_the_suggestion_form_even_after_a_restart(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Any member can click "Suggest a prompt" under a post (sent before a restart) and suggest one for review."""
    mods = server.guild.add_text_channel("mods")
    bot = await runner.start()
    await schedule(fake, server, server.general, mod_channel=mods)
    await runner.clock.advance(timedelta(hours=7))
    post = await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    button = post.find_component(marker_of(post) or "")
    assert button is not None and button["label"] == "Suggest a prompt"

    bot = await runner.restart()
    opened = await fake.click(server.member, post, button["custom_id"])
    text = "Would you want an AI assistant that refuses some of your requests for your own good?"
    thanks = await (await fake.submit_modal(server.member, opened, {"text": text, "title": "Paternalism"})).reply()
    assert thanks.ephemeral and "waiting for an admin's review" in thanks.content
    review = await fake.wait_for_message(mods, lambda m: "Suggested prompt" in m.text)
    assert text in review.text and f"Suggested by {server.member.name}" in review.text
    suggested = await bot.db.prompts.list_prompts(server.guild.id, "suggested")
    assert [(p.text, p.title, p.author_id) for p in suggested] == [(text, "Paternalism", server.member.id)]


async def test_admin_commands_are_in_a_group_only_admins_are_shown(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """/prompts-admin is listed only with Manage Server and only in servers; /prompts keeps just suggest."""
    synced = {c["name"]: c for c in fake.registered_commands()}
    admin, members = synced["prompts-admin"], synced["prompts"]
    assert {o["name"] for o in admin["options"]} == ADMIN_COMMANDS
    assert int(admin["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert admin.get("contexts") == [0] or admin.get("dm_permission") is False
    assert [o["name"] for o in members["options"]] == ["suggest"]
    assert members.get("default_member_permissions") is None
    with pytest.raises(InvalidInteraction):
        await fake.invoke(server.member, "prompts-admin status", channel=server.general)
    status = await (await fake.invoke(server.admin, "prompts-admin status", channel=server.general)).reply()
    assert "no prompt schedule yet; set one with `/prompts-admin schedule`" in status.content


async def test_a_member_let_through_by_the_servers_overrides_is_still_refused(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """If a server shows /prompts-admin to members (its own command permissions), each command still refuses them."""
    await schedule(fake, server, server.general)
    pausing = await fake.invoke(server.member, "prompts-admin pause", channel=server.general, check_permissions=False)
    refused = await pausing.reply()
    assert refused.ephemeral and refused.content == "You need the Manage Server permission to do that."
    await handled_now(runner, bot)
    row = await bot.db.schedules.get_schedule(server.guild.id)
    assert row is not None and not row.paused


async def test_replies_name_the_admin_commands_where_they_now_are(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """Sentences that point admins at a command name /prompts-admin (here: an empty queue at the due time)."""
    mods = server.guild.add_text_channel("mods")
    await fake.sync()
    await schedule(fake, server, server.general, mod_channel=mods)
    for prompt in await bot.db.prompts.list_prompts(server.guild.id, "approved", limit=100):
        await bot.db.prompts.update_prompt(server.guild.id, prompt.id, status="retired")
    missing = await (await fake.invoke(server.admin, "prompts-admin edit", {"prompt": 9999})).reply()
    assert missing.content == "There is no prompt #9999 in this server; `/prompts-admin list` shows them."
    await runner.clock.advance(timedelta(hours=7))
    alert = await fake.wait_for_message(mods, lambda m: "couldn't post" in m.content)
    assert "no approved prompts are left; add some with /prompts-admin add" in alert.content


async def test_the_review_command_shows_the_oldest_suggestion_with_its_buttons(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """Without a review channel, /prompts-admin review shows the waiting suggestion; Approve there queues it."""
    opened = await fake.invoke(server.member, "prompts suggest", channel=server.general)
    text = "Which safety technique do you find most convincing, and what would change your mind about it?"
    await (await fake.submit_modal(server.member, opened, {"text": text})).reply()
    shown = await (await fake.invoke(server.admin, "prompts-admin review", channel=server.general)).reply()
    assert shown.ephemeral and text in shown.text and "Suggested prompt #" in shown.text
    approve = next(cid for cid in shown.custom_ids if cid.endswith(":approve"))
    decided = await (await fake.click(server.admin, shown, approve)).reply()
    assert decided.content.startswith("Suggestion #") and "approved" in decided.content
    approved = await bot.db.prompts.list_prompts(server.guild.id, "approved", limit=1000)
    assert text in [p.text for p in approved]
    nothing = await (await fake.invoke(server.admin, "prompts-admin review", channel=server.general)).reply()
    assert nothing.content == "No suggestions are waiting for review."
