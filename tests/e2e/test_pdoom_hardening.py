"""P(Doom) closing under failure, and privacy of small rounds, through the fake Discord (issue 8)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import charts
from bot.bot import AlignmentBot
from bot.domain.pdoom import PollRound, bucket_estimate
from tests.e2e.conftest import BotRunner, LockedOnce, Server, community, eventually
from tests.e2e.test_pdoom import BUCKET_17, closer_pass, fast_refresh, open_poll, results_posts, rounds_of, vote
from tests.fakediscord import FakeDiscord, InvalidInteraction, Member, fast_http_retries

MESSAGES = "/channels/{channel_id}/messages"
DISCORD_RETRIES = 5  # discord.py tries a request 5 times on 500 before raising
REASON_2 = "2 members answered; results are shown from 5, so nobody's answer can be worked out."


async def voters(fake: FakeDiscord, server: Server, count: int) -> list[Member]:
    """Add `count` members to the server and wait until the bot knows them."""
    members = [server.guild.add_member(f"voter{i}") for i in range(count)]
    await fake.sync()
    return members


async def close(fake: FakeDiscord, server: Server) -> str:
    """Run /pdoom-admin close as the admin and return the private answer."""
    handle = await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    return reply.content


async def crash(*args: object, **kwargs: object) -> None:
    """Stand in for a step the process dies in."""
    raise RuntimeError("the process died here")


# --- 1. the closer is supervised ---


async def test_closer_survives_a_locked_database(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A 'database is locked' error in the closer's pass is logged and retried; the round still closes on time."""
    locked = LockedOnce(bot.db.polls.next_closing_time)
    bot.db.polls.next_closing_time = locked  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        await open_poll(fake, server, closes_in_hours=2)  # wakes the closer; its pass fails
        await eventually(lambda: locked.called(1))
        await runner.clock.advance(timedelta(seconds=15))  # past the first backoff
        await eventually(lambda: locked.called(2))
        await runner.clock.advance(timedelta(hours=2))
        await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert "pdoom-closer: pass failed (error " in caplog.text and "database is locked" in caplog.text


# --- 2. a chart never stops the results ---


async def test_question_with_dollar_signs_gets_results_with_a_chart(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """A question with $…$ in it (mathtext to matplotlib) is drawn as plain text: results and chart are posted."""
    question = "Would moving $1B (10% of spend) to safety instead of $100M change it?"
    poll = await open_poll(fake, server, question=question)
    for member in await voters(fake, server, 5):
        await vote(fake, member, poll)
    assert (await close(fake, server)).endswith(f"is closed and its results are posted in <#{server.general.id}>.")
    results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert question in results.text and "Median" in results.text
    assert results.attachments and results.attachments[0].data.startswith(b"\x89PNG")


async def test_results_go_out_without_a_chart_that_cannot_be_drawn(
    fake: FakeDiscord,
    server: Server,
    bot: AlignmentBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When drawing fails, the results are posted without the image, /pdoom results answers, and the error is logged."""

    def broken(*args: object) -> bytes:
        raise ValueError("cannot draw this")

    monkeypatch.setattr(charts, "histogram_png", broken)
    poll = await open_poll(fake, server)
    for member in await voters(fake, server, 5):
        await vote(fake, member, poll)
    with caplog.at_level(logging.ERROR):
        assert "its results are posted" in await close(fake, server)
    results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert "Median" in results.text and not results.attachments
    handle = await fake.invoke(server.member, "pdoom results", channel=server.general)
    private = await handle.reply()
    assert handle.ephemeral and "Median" in private.text and not private.attachments
    assert (
        "Drawing the chart of round" in caplog.text and "(error " in caplog.text and "cannot draw this" in caplog.text
    )


# --- 3. a failed results post is retried until it is posted, once ---


async def test_results_rejected_by_discord_are_posted_later_exactly_once(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot, caplog: pytest.LogCaptureFixture
) -> None:
    """5xx on every retry: the admin is told, the post is retried with growing waits, and appears exactly once."""
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll)
    start = runner.clock.now()
    with fast_http_retries(), caplog.at_level(logging.ERROR):
        fake.fail_next("POST", MESSAGES, status=500, times=DISCORD_RETRIES)
        answer = await close(fake, server)
        assert answer == (
            "Round 1 is closed. Discord didn't take the results post just now; "
            f"I'll keep trying and post them in <#{server.general.id}>."
        )
        assert results_posts(fake, server) == []
        # The first retry, a minute later, fails too; the next waits two minutes.
        fake.fail_next("POST", MESSAGES, status=500, times=DISCORD_RETRIES)
        await runner.clock.advance(timedelta(minutes=1))
        await eventually(lambda: _contains(caplog, "2 in a row"))
        await eventually(lambda: _sleeping_until(runner, start + timedelta(minutes=3)))
    assert results_posts(fake, server) == []
    await runner.clock.advance(timedelta(minutes=2))
    await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    closed = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    assert "This round is closed" in closed.text
    await runner.clock.advance(timedelta(hours=3))
    await closer_pass(bot)
    assert len(results_posts(fake, server)) == 1


async def _contains(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return text in caplog.text


async def _sleeping_until(runner: BotRunner, moment: object) -> bool:
    return moment in runner.clock.sleepers


async def test_close_again_retries_a_post_that_failed_at_once(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """After a failed results post, /pdoom-admin close again posts them now instead of saying no round is open."""
    await open_poll(fake, server)
    with fast_http_retries():
        fake.fail_next("POST", MESSAGES, status=502, times=DISCORD_RETRIES)
        assert "Discord didn't take the results post just now" in await close(fake, server)
    assert await close(fake, server) == f"Round 1 is closed and its results are posted in <#{server.general.id}>."
    assert len(results_posts(fake, server)) == 1
    assert await close(fake, server) == "No round is open in this server."


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(403, 50013, "Missing Permissions"), (400, 200000, "Message was blocked by AutoMod")],
    ids=["forbidden", "automod"],
)
async def test_results_refused_for_good_are_recorded_and_not_retried(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot, status: int, code: int, message: str
) -> None:
    """A refusal of the results post (403, AutoMod's 400) is permanent: told, recorded, and never retried."""
    await open_poll(fake, server)
    fake.fail_next("POST", MESSAGES, status=status, body={"message": message, "code": code})
    answer = await close(fake, server)
    assert answer.startswith(f"Round 1 is closed, but Discord refused its results post in <#{server.general.id}>")
    assert answer.endswith("`/pdoom results` shows them.")
    await runner.clock.advance(timedelta(hours=3))
    await closer_pass(bot)
    assert len(fake.requests_to("POST", MESSAGES)) == 2  # the poll, and the refused results
    latest = await bot.db.polls.latest_round(server.guild.id)
    assert latest is not None and latest.results_refused and latest.results_message_id is None
    assert latest.close_finished and await bot.db.polls.rounds_due(runner.clock.now()) == []


# --- 4. small rounds reveal nobody's answer ---


async def test_small_round_shows_the_count_and_the_reason_only(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """A 2-member round: results post, closed poll, /pdoom results and /pdoom history show the count and why."""
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll, bucket=0)
    await vote(fake, server.admin, poll, bucket=7)
    await close(fake, server)
    results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert "Respondents\n2" in results.text and REASON_2 in results.text
    assert "Median" not in results.text and "Middle half" not in results.text and not results.attachments
    closed = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    assert REASON_2 in closed.text and "Median" not in closed.text
    private = await (await fake.invoke(server.member, "pdoom results", channel=server.general)).reply()
    assert REASON_2 in private.text and "Median" not in private.text
    history = await (await fake.invoke(server.member, "pdoom history", channel=server.general)).reply()
    assert f"**Round 1** (Nov 2026): {REASON_2}" in history.text and not history.attachments


async def test_admins_set_the_minimum_respondents_no_lower_than_three(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """/pdoom-admin settings shows and sets the minimum (Manage Server, 3 or more); a 3-member round shows results."""
    with pytest.raises(InvalidInteraction, match="default_member_permissions"):
        await fake.invoke(server.member, "pdoom-admin settings", channel=server.general)
    refused = await fake.invoke(server.member, "pdoom-admin settings", channel=server.general, check_permissions=False)
    assert (await refused.reply()).content == "You need the Manage Server permission to do that."
    shown = await fake.invoke(server.admin, "pdoom-admin settings", channel=server.general)
    assert "shown from **5** respondents" in (await shown.reply()).content and shown.ephemeral
    with pytest.raises(InvalidInteraction):  # Discord itself refuses a value below the option's minimum
        await fake.invoke(server.admin, "pdoom-admin settings", {"min_respondents": 2}, channel=server.general)
    changed = await fake.invoke(server.admin, "pdoom-admin settings", {"min_respondents": 3}, channel=server.general)
    assert "shown from **3** respondents" in (await changed.reply()).content and changed.ephemeral
    assert (await bot.db.polls.pdoom_settings(server.guild.id)).min_respondents == 3

    poll = await open_poll(fake, server)
    for member in await voters(fake, server, 3):
        await vote(fake, member, poll)
    await close(fake, server)
    results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    assert "Respondents\n3" in results.text and "Median" in results.text


# --- 5. a close interrupted after posting is finished after the restart ---


async def test_crash_after_posting_results_finishes_the_close_after_restart(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Dying between posting and recording the results: after a restart, one post, and the poll message is closed."""
    bot = await runner.start()
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll)
    bot.db.polls.set_results_message = crash  # type: ignore[method-assign]
    answer = await close(fake, server)
    assert "I'll keep trying" in answer
    posted = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text)
    bot = await runner.restart()

    async def recorded() -> int | None:
        latest = await bot.db.polls.latest_round(server.guild.id)
        return latest.results_message_id if latest else None

    assert await eventually(recorded) == posted.id
    closed = await fake.wait_for_message(server.general, lambda m: m.id == poll.id and not m.components)
    assert "This round is closed" in closed.text and "Pick the range" not in closed.text
    bot = await runner.restart()
    await closer_pass(bot)
    assert [m.id for m in results_posts(fake, server)] == [posted.id]


# --- what the bot keeps and reads ---


async def test_only_open_rounds_are_kept_in_memory(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """A round is held in memory while it takes votes and dropped when it closes; a late vote doesn't bring it back."""
    poll = await open_poll(fake, server)
    round_id = int(poll.custom_ids[0].split(":")[3])
    late_form = await fake.click(server.member, poll, f"align:pdoom:exact:{round_id}")
    await vote(fake, server.admin, poll)
    assert rounds_of(bot).cached_round_ids == {round_id}
    await close(fake, server)
    assert rounds_of(bot).cached_round_ids == set()
    refused = await (await fake.submit_modal(server.member, late_form, {"estimate": "20%"})).reply()
    assert refused.content.startswith("Round 1 has closed")
    assert rounds_of(bot).cached_round_ids == set()


async def test_an_open_poll_shows_its_count_without_loading_the_answers(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """An open poll's refresh reads only the count; the answers are read for the public results at the close."""
    fast_refresh(bot)
    loaded: list[int] = []
    real = bot.db.polls.current_answers

    async def current_answers(round_id: int) -> dict[int, float]:
        loaded.append(round_id)
        return await real(round_id)

    bot.db.polls.current_answers = current_answers  # type: ignore[method-assign]
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll)
    await fake.wait_for_message(server.general, lambda m: m.id == poll.id and "Respondents\n1" in m.text)
    assert loaded == []
    await close(fake, server)
    assert loaded


async def test_closing_reads_the_round_once(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """/pdoom-admin close works on the round the close itself returned, without reading it again."""
    await open_poll(fake, server)
    reads: list[int] = []
    real = bot.db.polls.get_round

    async def get_round(round_id: int) -> PollRound | None:
        reads.append(round_id)
        return await real(round_id)

    bot.db.polls.get_round = get_round  # type: ignore[method-assign]
    assert (await close(fake, server)).endswith(f"its results are posted in <#{server.general.id}>.")
    latest = await bot.db.polls.latest_round(server.guild.id)
    assert latest is not None and latest.close_finished
    assert reads == []


# --- every server on its own ---


async def test_a_hanging_results_post_never_holds_up_another_server(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """While server A's results post hangs on Discord, server B's /pdoom-admin close answers and posts its results."""
    other = community(fake, "b")
    b = other.as_server
    await runner.start()
    await open_poll(fake, server)
    await open_poll(fake, b)
    fake.stall("POST", MESSAGES, 4.0, channel=server.general)
    closing_a = await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)
    stalled = f"/channels/{server.general.id}/messages"
    await fake.changed.wait_for(
        lambda: any(r.path.endswith(stalled) and r.status == 0 for r in fake.requests), 5, "A's results post to hang"
    )
    assert (await close(fake, b)).startswith("Round 1 is closed and its results are posted")
    assert results_posts(fake, b) and not results_posts(fake, server)
    assert (await closing_a.reply(timeout=10)).content.startswith("Round 1 is closed and its results are posted")


async def test_a_vote_answered_after_discords_deadline_is_kept_and_logged_in_one_line(
    fake: FakeDiscord, server: Server, bot: AlignmentBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A bot slowed past Discord's 3 s window can't answer; the vote stays stored and the log has one warning.

    Discord then refuses the answer (10062): nothing can reach the member, so it is no error with a traceback.
    """
    poll = await open_poll(fake, server)
    round_id = int(poll.custom_ids[0].split(":")[3])
    fake.ack_deadline = 0.0  # every answer arrives too late
    with caplog.at_level(logging.WARNING):
        handle = await fake.click(server.member, poll, f"align:pdoom:b:{round_id}:{BUCKET_17}")
        await fake.changed.wait_for(lambda: handle.rejected, 5, "the late answer to be refused")
        await eventually(lambda: bot.db.polls.current_answer(round_id, server.member.user.id))
        await fake.changed.wait_for(lambda: "Answered too late" in caplog.text, 5, "the warning")
    assert handle.callback is None and handle.rejected[0][1]["code"] == 10062
    assert await bot.db.polls.current_answer(round_id, server.member.user.id) == bucket_estimate(BUCKET_17).value
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
