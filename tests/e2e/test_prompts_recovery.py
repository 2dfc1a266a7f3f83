"""Weekly prompts across crashes: a post claimed, sent or half-recorded before the bot stopped is posted exactly once.

A post is found again by its marker (the custom_id of its "Suggest a prompt" button), never by its wording; posts
made before the button existed by their old footer. The runner's clock starts on Friday 2026-11-27 at 12:00 UTC;
schedules are Fridays 19:00 Europe/London, so the first post is due 7 hours in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import prompt_cards
from tests.e2e.conftest import BotRunner, Server, eventually
from tests.e2e.test_prompts import (
    DUE,
    cog,
    crash,
    handled_now,
    marker_of,
    moved_to,
    prompt_posts,
    retrying,
    schedule,
    with_thread,
)
from tests.e2e.test_prompts_faults import MESSAGES, THREADS, posts_to
from tests.fakediscord import FakeDiscord, Message, Permissions

FORUM_POSTS = "/channels/{channel_id}/threads"


async def test_crash_after_claim_before_send_posts_once_on_restart(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """If the bot stops after claiming an occurrence but before sending, the restart sends it, once."""
    bot = await runner.start()
    await schedule(fake, server, server.general)

    cog(bot).scheduler.poster.deliver = crash
    await runner.clock.advance(timedelta(hours=7))
    # The failed step was noted as a passing error, to be retried on its own after a short backoff.
    waiting = await eventually(lambda: retrying(bot, server.guild.id))
    assert waiting.attempts == 1
    assert prompt_posts(fake, server.general) == []
    claimed = await bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27")
    assert claimed is not None and claimed.status == "claimed"

    await runner.restart()
    await runner.clock.advance(timedelta(minutes=1))
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await fake.wait_for_request("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    bot = await runner.restart()
    await handled_now(runner, bot)
    assert len(prompt_posts(fake, server.general)) == 1


async def test_crash_after_send_before_completion_does_not_post_twice(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """If the bot stops after sending but before recording it, the restart finds the message and adds the thread."""
    bot = await runner.start()
    await schedule(fake, server, server.general)

    bot.db.prompts.complete_post = crash  # type: ignore[method-assign]
    await runner.clock.advance(timedelta(hours=7))
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await eventually(lambda: retrying(bot, server.guild.id))  # the pass ended at the failed write
    assert fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == []

    bot = await runner.restart()
    await runner.clock.advance(timedelta(minutes=1))
    await fake.wait_for_request("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    await handled_now(runner, bot)
    assert len(prompt_posts(fake, server.general)) == 1
    assert await bot.db.prompts.claimed_posts(runner.clock.now()) == []


async def test_a_thread_created_before_a_crash_is_found_not_retried(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Crash between opening the thread and recording it: the retry meets 160004 and records that thread, once."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    original = bot.db.prompts.set_post_thread
    bot.db.prompts.set_post_thread = crash  # type: ignore[method-assign]
    await runner.clock.set(DUE)
    await fake.wait_for_request("POST", THREADS)
    await eventually(lambda: bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27"))
    bot.db.prompts.set_post_thread = original  # type: ignore[method-assign]
    await runner.clock.advance(timedelta(minutes=5))
    post = await eventually(lambda: with_thread(bot, server.guild.id))
    assert post.thread_id == post.message_id
    await runner.clock.advance(timedelta(days=1))
    await handled_now(runner, bot)
    threads = fake.requests_to("POST", THREADS)
    assert [r.status for r in threads] == [201, 400]  # created, then "already exists": found and recorded
    assert len(prompt_posts(fake, server.general)) == 1


async def test_a_recovered_post_is_reported_as_posted_even_with_an_empty_queue(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Crash between sending the last queued prompt and recording it: recovery records it and status says posted."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    for prompt in (await bot.db.prompts.list_prompts(server.guild.id, "approved", limit=100))[1:]:
        await bot.db.prompts.update_prompt(server.guild.id, prompt.id, status="retired")
    bot.db.prompts.complete_post = crash  # type: ignore[method-assign]
    await runner.clock.set(DUE)
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    bot = await runner.restart()
    await runner.clock.advance(timedelta(minutes=1))
    outcome = (await eventually(lambda: moved_to(bot, server.guild.id, "2026-12-04"))).last_outcome
    assert outcome.startswith("Posted prompt #") and outcome.endswith("for 2026-11-27")
    assert len(prompt_posts(fake, server.general)) == 1


async def test_recovery_checks_permissions_before_resending(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A post claimed before a crash is not resent into a channel the bot lost access to: one alert instead."""
    mods = server.guild.add_text_channel("mods")
    bot = await runner.start()
    await schedule(fake, server, server.general, mod_channel=mods)
    cog(bot).scheduler.poster.deliver = crash
    await runner.clock.set(DUE)
    await eventually(lambda: bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27"))
    await runner.stop()
    server.guild.set_overwrite(server.general, server.guild.bot_member, deny=Permissions.SEND_MESSAGES)
    bot = await runner.start()
    await runner.clock.advance(timedelta(minutes=1))
    alert = await fake.wait_for_message(mods, lambda m: "couldn't post" in m.content)
    assert "I lack Send Messages" in alert.content
    await handled_now(runner, bot)
    assert posts_to(fake, server.general) == 0


def embed_posts(fake: FakeDiscord, server: Server) -> list[Message]:
    """Return every message with an embed the bot sent in #general, whatever it says or carries."""
    return [m for m in fake.messages_in(server.general) if m.author.id == fake.bot_user.id and m.embeds]


async def send_then_crash(fake: FakeDiscord, server: Server, runner: BotRunner) -> Message:
    """Schedule, then let the bot send the week's post and stop before recording it; return the post."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    bot.db.prompts.complete_post = crash  # type: ignore[method-assign]
    await runner.clock.set(DUE)
    post = await fake.wait_for_message(server.general, lambda m: bool(m.embeds))
    await eventually(lambda: retrying(bot, server.guild.id))  # the pass ended at the failed write
    await runner.stop()
    return post


async def test_a_reworded_post_is_found_by_its_button_after_a_crash(
    fake: FakeDiscord, server: Server, runner: BotRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release rewords the post between sending it and the restart: the post is found by its marker, not resent."""
    monkeypatch.setattr(prompt_cards, "post_footer", lambda occurrence: f"This week's question ({occurrence})")
    post = await send_then_crash(fake, server, runner)
    assert post.embeds[0]["footer"]["text"] == "This week's question (2026-11-27)"  # no old wording to match

    monkeypatch.setattr(prompt_cards, "post_footer", lambda occurrence: f"Discussion of the week · {occurrence}")
    bot = await runner.start()
    await runner.clock.advance(timedelta(minutes=1))
    recorded = await eventually(lambda: with_thread(bot, server.guild.id))
    assert recorded.status == "posted" and recorded.message_id == post.id
    assert marker_of(post) == f"align:prompt:suggest:{recorded.id}"
    await handled_now(runner, bot)
    assert embed_posts(fake, server) == [post] and posts_to(fake, server.general) == 1
    assert len(fake.requests_to("POST", THREADS)) == 1


async def test_a_post_from_before_the_button_is_found_by_its_old_footer(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A post sent by a version without the button (only the old footer) and never recorded is found, not resent."""
    post = await send_then_crash(fake, server, runner)
    post.components = []  # as the versions before the button sent it
    assert post.embeds[0]["footer"]["text"] == "Weekly prompt · 2026-11-27"

    bot = await runner.start()
    await runner.clock.advance(timedelta(minutes=1))
    recorded = await eventually(lambda: with_thread(bot, server.guild.id))
    assert recorded.status == "posted" and recorded.message_id == post.id
    await handled_now(runner, bot)
    assert embed_posts(fake, server) == [post] and posts_to(fake, server.general) == 1


async def test_a_forum_post_made_before_a_crash_is_found_by_its_starter_message(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Crash between creating the forum post and recording it: its starter message carries the marker; no resend."""
    forum = server.guild.add_forum_channel("weekly-questions")
    bot = await runner.start()
    await schedule(fake, server, forum)
    bot.db.prompts.complete_post = crash  # type: ignore[method-assign]
    await runner.clock.set(DUE)
    await fake.wait_for_request("POST", FORUM_POSTS)
    await eventually(lambda: retrying(bot, server.guild.id))
    (thread,) = [t for t in server.guild.threads if t.parent_id == forum.id]
    starter = fake.messages_in(thread)[0]

    bot = await runner.restart()
    await runner.clock.advance(timedelta(minutes=1))
    recorded = await eventually(lambda: with_thread(bot, server.guild.id))
    assert (recorded.message_id, recorded.thread_id) == (starter.id, thread.id)
    assert marker_of(starter) == f"align:prompt:suggest:{recorded.id}"
    await handled_now(runner, bot)
    assert len(fake.requests_to("POST", FORUM_POSTS)) == 1
    assert posts_to(fake, forum, MESSAGES) == 0
