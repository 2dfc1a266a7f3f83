"""P(Doom) polls through the fake Discord: open, vote, results, closing, restarts, privacy, scoping."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from bot.bot import AlignmentBot
from bot.domain.pdoom import bucket_estimate
from tests.e2e.conftest import BotRunner, Server, eventually
from tests.fakediscord import FakeDiscord, InvalidInteraction, Member, Message, Permissions

BUCKET_17 = 3  # the "10-25%" button, recorded as 17.5%


def rounds_of(bot: AlignmentBot) -> Any:
    """Return the feature's shared PollRounds.

    (load_extension executes the modules afresh, so the cog is not an instance of a class imported here.)
    """
    return bot.get_cog("PollRounds")


def fast_refresh(bot: AlignmentBot, interval: float = 0.05) -> None:
    """Shorten the poll-message refresh interval."""
    rounds_of(bot).refresher.interval = interval


async def closer_pass(bot: AlignmentBot) -> None:
    """Wake the closer and wait until a whole pass that began after this call has ended.

    The positive sign that the bot handled the current moment, before asserting that nothing (more) happened in it.
    Two rounds, because the first pass to end may be one that was already running.
    """
    loop = bot.get_cog("RoundCloser").background  # type: ignore[union-attr]
    for _ in range(2):
        before = loop.passes

        async def ended(before: int = before) -> bool:
            return bool(loop.passes > before)

        loop.wake()
        await eventually(ended)


def results_posts(fake: FakeDiscord, server: Server, number: int = 1) -> list[Message]:
    """Return the public results posts of a round (by their marker button, whatever their wording)."""
    return [m for m in fake.messages_in(server.general) if any(c.startswith("align:pdoom:mine:") for c in m.custom_ids)]


async def open_poll(fake: FakeDiscord, server: Server, **options: object) -> Message:
    """Open a round as the admin in #general and return the poll message."""
    handle = await fake.invoke(server.admin, "pdoom-admin open", options, channel=server.general)
    reply = await handle.reply()
    assert reply.content.startswith("Round "), reply.text
    return await fake.wait_for_message(server.general, lambda m: "P(doom) round" in m.text)


async def vote(fake: FakeDiscord, member: Member, poll: Message, bucket: int = BUCKET_17) -> str:
    """Click a bucket button and return the private confirmation."""
    round_id = poll.custom_ids[0].split(":")[3]
    handle = await fake.click(member, poll, f"align:pdoom:b:{round_id}:{bucket}")
    reply = await handle.reply()
    assert handle.ephemeral
    return reply.content


async def type_estimate(fake: FakeDiscord, member: Member, poll: Message, text: str) -> str:
    """Open the exact-value form, submit `text`, and return the private answer."""
    round_id = poll.custom_ids[0].split(":")[3]
    opened = await fake.click(member, poll, f"align:pdoom:exact:{round_id}")
    submitted = await fake.submit_modal(member, opened, {"estimate": text})
    reply = await submitted.reply()
    assert submitted.ephemeral
    return reply.content


async def test_open_posts_a_poll_with_buckets_and_a_form(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """/pdoom-admin open posts the question, what counts as doom, the horizon, eight range buttons and a form button."""
    poll = await open_poll(fake, server, horizon="by 2070")
    assert "round 1" in poll.text and "by 2070" in poll.text and "kills or permanently disempowers" in poll.text
    assert len(poll.custom_ids) == 9
    assert all(len(custom_id) <= 100 for custom_id in poll.custom_ids)


async def test_only_managers_open_rounds(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Members are not offered /pdoom-admin; one who reaches it anyway is told which permission it needs."""
    with pytest.raises(InvalidInteraction, match="default_member_permissions"):
        await fake.invoke(server.member, "pdoom-admin open", channel=server.general)
    # A server can let members see the group (integration settings); the bot still checks when it runs.
    handle = await fake.invoke(server.member, "pdoom-admin open", channel=server.general, check_permissions=False)
    assert (await handle.reply()).content == "You need the Manage Server permission to do that."
    assert await bot.db.polls.latest_round(server.guild.id) is None


async def test_open_says_which_permission_the_bot_lacks(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Without Embed Links in the channel, /pdoom-admin open names it and opens nothing."""
    server.guild.set_overwrite(server.general, server.guild.bot_member, deny=Permissions.EMBED_LINKS)
    await fake.sync()
    handle = await fake.invoke(server.admin, "pdoom-admin open", channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert reply.content == "I need the Embed Links permission in this channel to do that."
    assert await bot.db.polls.latest_round(server.guild.id) is None
    # Who may open a round is checked first: a member is told about their permission, not the bot's.
    member = await fake.invoke(server.member, "pdoom-admin open", channel=server.general, check_permissions=False)
    assert (await member.reply()).content == "You need the Manage Server permission to do that."


async def test_vote_by_button_is_stored_before_it_is_confirmed(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """A bucket click records its midpoint and the member is told privately; the database already has it."""
    poll = await open_poll(fake, server)
    answer = await vote(fake, server.member, poll)
    assert answer == "Recorded your estimate for round 1: **17.5%**."
    round_ = await bot.db.polls.latest_round(server.guild.id)
    assert round_ is not None
    assert await bot.db.polls.current_answers(round_.id) == {server.member.id: 0.175}


async def test_vote_by_form_and_changing_it(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """A typed "1 in 30" is recorded as 3.3% with the raw text kept; answering again replaces the current answer."""
    poll = await open_poll(fake, server)
    assert (await type_estimate(fake, server.member, poll, "1 in 30")).startswith(
        "Recorded your estimate for round 1: **3.3%**. (You wrote “1 in 30”.)"
    )
    await vote(fake, server.member, poll, bucket=0)
    round_ = await bot.db.polls.latest_round(server.guild.id)
    assert round_ is not None
    assert await bot.db.polls.current_answers(round_.id) == {server.member.id: 0.005}
    assert [s.raw for s in await bot.db.polls.submissions(server.guild.id, server.member.id)] == ["1 in 30", "<1%"]


async def test_two_simultaneous_clicks_leave_one_answer(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Two clicks from one member at the same moment leave exactly one current answer and two submissions."""
    poll = await open_poll(fake, server)
    await asyncio.gather(vote(fake, server.member, poll, bucket=1), vote(fake, server.member, poll, bucket=6))
    round_ = await bot.db.polls.latest_round(server.guild.id)
    assert round_ is not None
    current = await bot.db.polls.current_answers(round_.id)
    clicked = {bucket_estimate(1).value, bucket_estimate(6).value}  # whichever commit came last
    assert list(current) == [server.member.id] and current[server.member.id] in clicked
    assert len(await bot.db.polls.submissions(server.guild.id, server.member.id)) == 2


async def test_bad_typed_input_explains_and_stores_nothing(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """Unreadable input gets a sentence showing the accepted forms, and nothing is stored."""
    poll = await open_poll(fake, server)
    answer = await type_estimate(fake, server.member, poll, "pretty high")
    assert "I couldn't read 'pretty high'" in answer and "1 in 30" in answer
    assert await bot.db.polls.submissions(server.guild.id, server.member.id) == []


async def test_extreme_input_is_clamped_with_a_note(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """100% is recorded as 99.99% and the member is told why."""
    poll = await open_poll(fake, server)
    answer = await type_estimate(fake, server.member, poll, "100%")
    assert "**99.99%**" in answer and "capped" in answer


async def test_results_only_after_answering(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """In a round that shows results early, a member sees the aggregate only after answering (from 5 members)."""
    poll = await open_poll(fake, server, show_results=True)
    before = await (await fake.invoke(server.member, "pdoom results", channel=server.general)).reply()
    assert before.content.startswith("Answer round 1 first")
    others = [server.guild.add_member(f"early{i}") for i in range(4)]
    await fake.sync()
    first = await vote(fake, others[0], poll)
    assert "So far: 1 member answered; results are shown from 5" in first and "median" not in first
    for member in others[1:]:
        await vote(fake, member, poll)
    answer = await vote(fake, server.member, poll)
    assert "So far: median **17.5%**" in answer
    public = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and "Respondents\n5" in m.text)
    assert "Median" not in public.text  # the public message never anchors members who haven't answered
    after = await (await fake.invoke(server.member, "pdoom results", channel=server.general)).reply()
    assert "Median" in after.text and "17.5%" in after.text


async def test_hidden_round_shows_nothing_until_closed(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """A round that hides results refuses /pdoom results while open, even to members who answered."""
    poll = await open_poll(fake, server)
    answer = await vote(fake, server.member, poll)
    assert "So far" not in answer
    reply = await (await fake.invoke(server.member, "pdoom results", channel=server.general)).reply()
    assert "shows its results when it closes" in reply.content


async def test_close_posts_results_with_a_chart_and_refuses_new_answers(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """/pdoom-admin close posts n, median, IQR, geometric mean of odds, share above 10%, a histogram; votes bounce."""
    fast_refresh(bot)
    poll = await open_poll(fake, server)
    voters = [server.guild.add_member(f"voter{i}") for i in range(5)]
    await fake.sync()
    for index, member in enumerate(voters):
        await vote(fake, member, poll, bucket=2 + index % 3)
    round_id = poll.custom_ids[0].split(":")[3]
    late_form = await fake.click(server.member, poll, f"align:pdoom:exact:{round_id}")  # opened before the close
    await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply()
    results = await fake.wait_for_message(server.general, lambda m: "results" in m.text and bool(m.attachments))
    for label in ("Respondents", "Median", "Middle half", "Geometric mean of odds", "Above 10%"):
        assert label in results.text
    assert results.attachments[0].filename == "pdoom.png"
    assert results.attachments[0].data.startswith(b"\x89PNG")
    assert "Published estimates" in results.text
    refused = await (await fake.submit_modal(server.member, late_form, {"estimate": "20%"})).reply()
    assert refused.content.startswith("Round 1 has closed")
    assert await bot.db.polls.submissions(server.guild.id, server.member.id) == []
    closed_poll = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    assert "This round is closed" in closed_poll.text


async def test_poll_message_edits_are_throttled(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Thirty quick votes lead to a couple of poll-message edits, not thirty, and the final count is right."""
    fast_refresh(bot, interval=0.3)
    poll = await open_poll(fake, server)
    voters = [server.guild.add_member(f"quick{i}") for i in range(30)]
    await fake.sync()
    await asyncio.gather(*(vote(fake, member, poll) for member in voters))
    final = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and "Respondents\n30" in m.text)
    edits = [r for r in fake.requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}")]
    assert 1 <= len(edits) <= 3
    assert final.id == poll.id


async def test_scheduled_close_posts_results_once(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """When the closing time comes, the round closes and its results are posted exactly once."""
    poll = await open_poll(fake, server, closes_in_hours=2)
    await vote(fake, server.member, poll)
    await runner.clock.advance(timedelta(hours=1))
    await closer_pass(bot)
    assert results_posts(fake, server) == []
    assert runner.clock.now() + timedelta(hours=1) in runner.clock.sleepers  # waiting for the closing time
    await runner.clock.advance(timedelta(hours=1, seconds=1))
    await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    await runner.clock.advance(timedelta(hours=5))
    await closer_pass(bot)
    assert len(results_posts(fake, server)) == 1


async def test_buttons_work_after_restart_and_overdue_rounds_close_at_start_up(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Votes survive a restart, old buttons keep working, and a round that came due while down closes once."""
    bot = await runner.start()
    poll = await open_poll(fake, server, closes_in_hours=1)
    await vote(fake, server.member, poll)
    await runner.restart()
    await vote(fake, server.admin, poll, bucket=5)
    await runner.stop()
    await runner.clock.advance(timedelta(hours=2))  # the closing time passes while the bot is down
    bot = await runner.start()
    results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert "Respondents\n2" in results.text
    await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    bot = await runner.restart()
    await closer_pass(bot)
    assert [m.id for m in results_posts(fake, server)] == [results.id]
    latest = await bot.db.polls.latest_round(server.guild.id)
    assert latest is not None and latest.results_message_id == results.id and latest.close_finished


async def test_rounds_are_scoped_to_their_server(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """An admin of another server cannot close, read or export this server's round."""
    await open_poll(fake, server)
    other = fake.add_guild("Other server")
    other_admin = other.add_member("carol", permissions=Permissions.MANAGE_GUILD)
    other_channel = other.add_text_channel("chat")
    await fake.sync()
    closed = await (await fake.invoke(other_admin, "pdoom-admin close", channel=other_channel)).reply()
    assert closed.content == "No round is open in this server."
    results = await (await fake.invoke(other_admin, "pdoom results", {"round": 1}, channel=other_channel)).reply()
    assert results.content == "There is no round 1 in this server."
    exported = await (await fake.invoke(other_admin, "pdoom-admin export", channel=other_channel)).reply()
    assert exported.content == "No rounds to export yet."
    assert await bot.db.polls.open_round_for_guild(server.guild.id) is not None


async def test_mine_and_forget(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """/pdoom mine lists your own estimates privately; /pdoom forget deletes them after confirmation."""
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll, bucket=1)
    await vote(fake, server.member, poll, bucket=4)
    mine = await fake.invoke(server.member, "pdoom mine", channel=server.general)
    text = (await mine.reply()).text
    assert mine.ephemeral and "Round 1:** 37.5% (earlier: 3%)" in text
    asked = await (await fake.invoke(server.member, "pdoom forget", channel=server.general)).reply()
    confirm = next(c["custom_id"] for row in asked.components for c in row["components"] if "Delete" in c["label"])
    done = await (await fake.click(server.member, asked, confirm)).reply()
    assert done.content == "Deleted 2 estimate(s)."
    again = await (await fake.invoke(server.member, "pdoom mine", channel=server.general)).reply()
    assert "haven't answered" in again.text


async def test_export_has_aggregates_only(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """The CSV export lists per-round aggregates, no member ids, and only the count for a round of 2 members."""
    voters = [server.guild.add_member(f"v{i}") for i in range(5)]
    await fake.sync()
    poll = await open_poll(fake, server)
    for member in voters:
        await vote(fake, member, poll)
    await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply()
    handle = await fake.invoke(server.admin, "pdoom-admin open", channel=server.general)
    assert (await handle.reply()).content.startswith("Round 2")
    second = await fake.wait_for_message(server.general, lambda m: "P(doom) round 2:" in m.text)
    for member in voters[:2]:
        await vote(fake, member, second)
    reply = await (await fake.invoke(server.admin, "pdoom-admin export", channel=server.general)).reply()
    data = reply.attachments[0].data.decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert rows[0]["respondents"] == "5" and rows[0]["median"] == "0.175" and rows[0]["histogram"]
    assert rows[1]["respondents"] == "2"
    assert all(rows[1][c] == "" for c in ("median", "q1", "q3", "geometric_mean_odds", "share_above_10pct"))
    assert rows[1]["histogram"] == ""
    assert all(str(m.id) not in data for m in voters)


@pytest.mark.parametrize("question", ["@everyone what is your P(doom)?"])
async def test_poll_text_pings_nobody(fake: FakeDiscord, server: Server, bot: AlignmentBot, question: str) -> None:
    """An @everyone typed into the question is shown but pings nobody."""
    poll = await open_poll(fake, server, question=question)
    assert "@everyone" in poll.text
    assert not poll.pinged.any


async def test_results_posted_but_not_recorded_are_not_posted_again(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A crash between posting results and recording it is recovered by finding the message, not by reposting."""
    if runner.postgres_url:
        pytest.skip("simulates the crash by editing the SQLite file directly")
    await runner.start()
    await open_poll(fake, server)
    await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply()
    posted = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    await runner.stop()
    with sqlite3.connect(runner.database_path) as conn:  # as if the process died right after posting
        conn.execute("UPDATE pdoom_rounds SET results_message_id = NULL")
    bot = await runner.start()

    async def recorded() -> int | None:
        round_ = await bot.db.polls.latest_round(server.guild.id)
        return round_.results_message_id if round_ else None

    assert await eventually(recorded) == posted.id
    await closer_pass(bot)
    assert [m.id for m in results_posts(fake, server)] == [posted.id]


async def test_results_button_shows_the_clickers_own_estimates_privately(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """The results post's "My estimates" button shows each clicker their own estimates only, and only to them."""
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll, bucket=1)
    await vote(fake, server.member, poll, bucket=4)
    await vote(fake, server.admin, poll, bucket=7)
    round_id = poll.custom_ids[0].split(":")[3]
    await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply()
    results = await fake.wait_for_message(server.general, lambda m: f"align:pdoom:mine:{round_id}" in m.custom_ids)
    button = results.find_component(f"align:pdoom:mine:{round_id}")
    assert button is not None and button["label"] == "My estimates"
    clicked = await fake.click(server.member, results, f"align:pdoom:mine:{round_id}")
    mine = await clicked.reply()
    assert clicked.ephemeral
    assert "Your P(doom) estimates" in mine.text and "Round 1:** 37.5% (earlier: 3%)" in mine.text
    assert "95%" not in mine.text  # the admin's answer
    theirs = await (await fake.click(server.admin, results, f"align:pdoom:mine:{round_id}")).reply()
    assert "Round 1:** 95%" in theirs.text and "37.5%" not in theirs.text
