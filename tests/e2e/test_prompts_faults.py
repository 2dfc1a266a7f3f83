"""Weekly prompts under real-world faults: one server's trouble never touches another, and nothing retries forever.

The runner's clock starts on Friday 2026-11-27 at 12:00 UTC; schedules are Fridays 19:00 Europe/London (UTC in
November), so the first post is due 7 hours in.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.bot import AlignmentBot
from tests.e2e.conftest import BotRunner, Community, LockedOnce, Server, community, eventually
from tests.e2e.test_prompts import (
    DUE,
    cog,
    handled_now,
    last_outcome,
    prompt_posts,
    retrying,
    schedule,
)
from tests.fakediscord import Channel, FakeDiscord, fast_http_retries

MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/messages/{message_id}/threads"


async def schedule_in(fake: FakeDiscord, place: Community, **options: Any) -> str:
    """Schedule Fridays 19:00 London in the community's #prompts, alerts to #mods."""
    return await schedule(fake, place.as_server, place.prompts, mod_channel=place.mods, **options)


async def two_scheduled_servers(fake: FakeDiscord, runner: BotRunner) -> tuple[AlignmentBot, Community, Community]:
    """Start the bot with servers A and B, both scheduled for Fridays 19:00 London."""
    a, b = community(fake, "a"), community(fake, "b")
    bot = await runner.start()
    await schedule_in(fake, a)
    await schedule_in(fake, b)
    return bot, a, b


def alerts(fake: FakeDiscord, channel: Channel) -> list[str]:
    """Return the scheduler's alerts in a channel."""
    return [m.content for m in fake.messages_in(channel) if m.content.startswith("⚠️ Weekly prompts")]


def posts_to(fake: FakeDiscord, channel: Channel, route: str = MESSAGES) -> int:
    """Count the bot's requests to `route` in one channel."""
    return sum(1 for r in fake.requests_to("POST", route) if f"/channels/{channel.id}/" in r.path)


REFUSALS = {
    "missing permissions": (403, 50013, "Missing Permissions", "Discord says I lack a permission to post"),
    "missing access": (403, 50001, "Missing Access", "I can't see"),
    "automod": (400, 200000, "Message was blocked by AutoMod", "AutoMod blocked the post"),
}


@pytest.mark.parametrize("kind", list(REFUSALS))
async def test_a_refusing_server_fails_once_and_never_delays_another(
    fake: FakeDiscord, server: Server, runner: BotRunner, kind: str
) -> None:
    """Server A's channel refuses the bot: A gets one alert naming the cause and no retries; B posts on time."""
    status, code, message, cause = REFUSALS[kind]
    bot, a, b = await two_scheduled_servers(fake, runner)
    fake.refuse(a.prompts, code, message, status=status)
    await runner.clock.set(DUE)
    await fake.wait_for_message(b.prompts, lambda m: bool(prompt_posts(fake, b.prompts)))
    alert = await fake.wait_for_message(a.mods, lambda m: "couldn't post" in m.content)
    assert cause in alert.content
    assert await eventually(lambda: last_outcome(bot, a.as_server)) == f"Failed: {alert.content.split(': ', 2)[2][:-1]}"
    await runner.clock.advance(timedelta(hours=13))
    await handled_now(runner, bot)
    assert posts_to(fake, a.prompts) == 1  # the one refused attempt, never retried
    assert len(alerts(fake, a.mods)) == 1
    assert len(prompt_posts(fake, b.prompts)) == 1
    posted_b = await bot.db.schedules.get_schedule(b.guild.id)
    assert posted_b is not None and posted_b.last_outcome is not None and posted_b.last_outcome.startswith("Posted")


async def test_a_deleted_channel_is_named_and_the_next_week_is_still_scheduled(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A deleted prompt channel fails that week with one alert; the schedule moves on to next week."""
    a = community(fake, "a")
    bot = await runner.start()
    await schedule_in(fake, a)
    a.guild.delete_channel(a.prompts)
    await fake.sync()
    await runner.clock.set(DUE)
    alert = await fake.wait_for_message(a.mods, lambda m: "couldn't post" in m.content)
    assert "the prompt channel no longer exists" in alert.content
    row = await eventually(lambda: _advanced(bot, a.guild.id))
    assert row.next_local_date == "2026-12-04"


async def _advanced(bot: AlignmentBot, guild_id: int) -> Any:
    row = await bot.db.schedules.get_schedule(guild_id)
    return row if row is not None and row.next_local_date != "2026-11-27" else None


async def test_a_passing_failure_retries_that_server_alone(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A 500 on server A's post (every discord.py retry) makes A retry alone a little later; B is not delayed."""
    bot, a, b = await two_scheduled_servers(fake, runner)
    fake.fail_next("POST", MESSAGES, status=500, times=5, channel=a.prompts)
    with fast_http_retries():
        await runner.clock.set(DUE)
        await fake.wait_for_message(b.prompts, lambda m: bool(prompt_posts(fake, b.prompts)))
        waiting = await eventually(lambda: retrying(bot, a.guild.id))
        assert waiting.attempts == 1 and "server error (500)" in (waiting.retry_reason or "")
        assert prompt_posts(fake, a.prompts) == []
        await runner.clock.advance(timedelta(seconds=20))
        await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)))
    await runner.clock.advance(timedelta(hours=1))
    await handled_now(runner, bot)
    assert len(prompt_posts(fake, a.prompts)) == 1 and len(prompt_posts(fake, b.prompts)) == 1
    assert alerts(fake, a.mods) == []


async def test_passing_failures_give_up_at_the_deadline_with_one_alert(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """If Discord keeps failing past the grace period, the week fails with one alert; the retries were bounded."""
    a = community(fake, "a")
    await runner.start()
    await schedule_in(fake, a, grace_hours=1)
    fake.fail_next("POST", MESSAGES, status=503, times=1000, channel=a.prompts)
    with fast_http_retries(0.001):
        await runner.clock.set(DUE)
        for _ in range(12):  # 15 s, 30 s, 1 min, ... then the deadline (1 h 5 min)
            await asyncio.sleep(0.05)
            await runner.clock.advance(timedelta(minutes=10))
        alert = await fake.wait_for_message(a.mods, lambda m: "couldn't post" in m.content)
    assert "Discord had a server error (503)" in alert.content and "gave up after" in alert.content
    assert len(alerts(fake, a.mods)) == 1
    assert posts_to(fake, a.prompts) <= 5 * 10  # a handful of tries (each retried 5 times by discord.py), not a storm


async def test_schedule_answers_at_once_while_another_servers_post_hangs(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """While server A's post hangs on Discord, server B's /prompts-admin schedule and post-now answer in time."""
    a, b = community(fake, "a"), community(fake, "b")
    await runner.start()
    await schedule_in(fake, a)
    fake.stall("POST", MESSAGES, 4.0, channel=a.prompts)
    await runner.clock.set(DUE)
    stalled = f"/channels/{a.prompts.id}/messages"
    await fake.changed.wait_for(
        lambda: any(r.path.endswith(stalled) and r.status == 0 for r in fake.requests), 5, "A's post to hang"
    )
    answer = await schedule_in(fake, b)
    assert "Prompts will be posted" in answer
    now = await (await fake.invoke(b.admin, "prompts-admin post-now", channel=b.prompts)).reply()
    assert now.content.startswith("Posted prompt")
    await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)), timeout=10)


async def test_grace_zero_still_posts_on_time(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """With grace_hours 0, a pass that wakes a moment after the due time still posts: zero means never late."""
    a = community(fake, "a")
    bot = await runner.start()
    await schedule_in(fake, a, grace_hours=0)
    await runner.clock.set(DUE + timedelta(seconds=2))
    await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)))
    assert str(await eventually(lambda: last_outcome(bot, a.as_server))).startswith("Posted")


async def test_grace_zero_after_downtime_is_reported_not_posted(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """With grace_hours 0, a post an hour overdue (the bot was down) is not made late; the admins are told."""
    a = community(fake, "a")
    await runner.start()
    await schedule_in(fake, a, grace_hours=0)
    await runner.stop()
    await runner.clock.set(DUE + timedelta(hours=1))
    bot = await runner.start()
    alert = await fake.wait_for_message(a.mods, lambda m: "Missed" in m.content)
    assert "Missed 1 weekly post(s) while offline" in alert.content
    await handled_now(runner, bot)
    assert prompt_posts(fake, a.prompts) == []


async def test_an_unavailable_server_at_the_due_time_is_waited_for(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """A re-identify during a server's outage: the week is not lost; the post goes out when the server is back."""
    bot, a, b = await two_scheduled_servers(fake, runner)
    fake.set_available(a.guild, False)
    await fake.reidentify()
    await fake.sync()
    await runner.clock.set(DUE)
    await fake.wait_for_message(b.prompts, lambda m: bool(prompt_posts(fake, b.prompts)))
    waiting = await eventually(lambda: retrying(bot, a.guild.id))
    assert "unavailable" in (waiting.retry_reason or "")
    await runner.clock.advance(timedelta(minutes=5))
    await eventually(lambda: retrying(bot, a.guild.id, attempts=2))  # tried again once its backoff was over
    await handled_now(runner, bot)
    assert alerts(fake, a.mods) == [] and prompt_posts(fake, a.prompts) == []
    fake.set_available(a.guild, True)
    await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)))  # at once, not at 19:05:30
    await handled_now(runner, bot)
    assert alerts(fake, a.mods) == [] and len(prompt_posts(fake, a.prompts)) == 1


async def test_a_deleted_prompt_message_stops_the_thread_retries(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """The thread failed (5xx) and a moderator deleted the prompt: the retry meets 10008 and stops for good."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    fake.fail_next("POST", THREADS, status=500, times=5)
    with fast_http_retries():
        await runner.clock.set(DUE)
        post = await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
        await eventually(lambda: _thread_tries(bot, server.guild.id))
        fake.world.messages[post.id].deleted = True
        await runner.clock.advance(timedelta(minutes=5))
        await fake.changed.wait_for(lambda: fake.requests_to("POST", THREADS)[-1].status == 404, 5, "a 404")
        await runner.clock.advance(timedelta(days=2))
        await handled_now(runner, bot)
    assert len(fake.requests_to("POST", THREADS)) == 6  # the five failed tries of one call, then the 404
    recorded = await bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27")
    assert recorded is not None and not recorded.wants_thread and "deleted" in (recorded.error or "")


async def _thread_tries(bot: AlignmentBot, guild_id: int) -> int:
    post = await bot.db.prompts.post_for_occurrence(guild_id, "2026-11-27")
    return post.thread_attempts if post is not None else 0


async def test_thread_retries_are_bounded(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """A thread Discord never manages to open is tried a few times with backoff, then given up with one alert."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    fake.fail_next("POST", THREADS, status=502, times=10_000)
    with fast_http_retries(0.001):
        await runner.clock.set(DUE)
        await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
        for _ in range(30):
            await asyncio.sleep(0.05)
            await runner.clock.advance(timedelta(minutes=30))
        alert = await fake.wait_for_message(server.general, lambda m: "discussion thread after" in m.content)
    assert "after 5 tries" in alert.content
    assert len(fake.requests_to("POST", THREADS)) == 5 * 5  # five calls, each tried five times by discord.py
    recorded = await bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27")
    assert recorded is not None and not recorded.wants_thread


async def test_a_server_that_removed_the_bot_is_paused_and_resumed_when_it_returns(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Removing the bot pauses the server's schedule (no weekly failures); adding it back resumes from next week."""
    a = community(fake, "a")
    bot = await runner.start()
    await schedule_in(fake, a)
    fake.remove_bot(a.guild)
    await fake.sync()
    assert (await eventually(lambda: _absent(bot, a.guild.id))).last_outcome.startswith("Paused")
    await runner.clock.set(DUE + timedelta(days=14))
    await handled_now(runner, bot)
    assert not [r for r in fake.requests if any(f"/channels/{c.id}/" in r.path for c in (a.prompts, a.mods))]
    fake.add_bot_back(a.guild)
    await fake.sync()
    resumed = await eventually(lambda: _present(bot, a.guild.id))
    assert resumed.next_local_date == "2026-12-18"
    await runner.clock.set(datetime(2026, 12, 18, 19, 0, tzinfo=UTC))
    await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)))
    await handled_now(runner, bot)
    assert alerts(fake, a.mods) == []


async def test_a_server_that_removed_the_bot_while_it_was_down_is_paused_at_start(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Removed while the bot was offline (no event): the start-up pass pauses the schedule instead of failing."""
    a = community(fake, "a")
    await runner.start()
    await schedule_in(fake, a)
    await runner.stop()
    a.guild.bot_present = False
    bot = await runner.start()
    await eventually(lambda: _absent(bot, a.guild.id))
    await runner.clock.set(DUE)
    await handled_now(runner, bot)
    assert not [r for r in fake.requests if f"/channels/{a.mods.id}/" in r.path]


async def _absent(bot: AlignmentBot, guild_id: int) -> Any:
    row = await bot.db.schedules.get_schedule(guild_id)
    return row if row is not None and row.absent else None


async def _present(bot: AlignmentBot, guild_id: int) -> Any:
    row = await bot.db.schedules.get_schedule(guild_id)
    return row if row is not None and not row.absent else None


async def test_the_scheduler_survives_a_failing_next_due_query(
    fake: FakeDiscord, server: Server, runner: BotRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """If the next-due query raises once (database locked), the loop logs it, backs off, and still posts."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    locked = LockedOnce(bot.db.schedules.next_schedule_due)
    bot.db.schedules.next_schedule_due = locked  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.background"):
        cog(bot).scheduler.wake()
        await eventually(locked.called)
        await runner.clock.advance(timedelta(minutes=1))  # past the backoff
        await runner.clock.set(DUE)
        await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    assert "pass failed" in caplog.text and "database is locked" in caplog.text
    assert cog(bot).scheduler.loop.running


async def test_post_now_reports_a_refusal_to_the_admin_only(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """/prompts-admin post-now into a channel AutoMod blocks: the admin reads why; the mod channel is not alerted."""
    a = community(fake, "a")
    bot = await runner.start()
    await schedule_in(fake, a)
    fake.refuse(a.prompts, 200000, "Message was blocked by AutoMod", status=400)
    reply = await (await fake.invoke(a.admin, "prompts-admin post-now", channel=a.prompts)).reply()
    assert reply.content.startswith("Failed: AutoMod blocked the post")
    await fake.sync()
    assert alerts(fake, a.mods) == []
    assert await bot.db.prompts.count_prompts(a.guild.id, "posted") == 0  # the prompt went back to the queue


async def test_a_server_whose_return_went_unannounced_is_posted_when_its_shard_is_ready(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """discord.py drops a GUILD_CREATE landing as a shard's wait for its servers times out: no on_guild_available.

    The shard's READY that follows still brings the waiting post forward, instead of leaving it to its retry time.
    """
    bot, a, _ = await two_scheduled_servers(fake, runner)
    fake.set_available(a.guild, False)
    await fake.reidentify()
    await fake.sync()
    await runner.clock.set(DUE)
    await eventually(lambda: retrying(bot, a.guild.id))
    bot.remove_listener(cog(bot).on_guild_available, "on_guild_available")  # as if discord.py lost the event
    fake.set_available(a.guild, True)
    await fake.reidentify()
    await fake.wait_for_message(a.prompts, lambda m: bool(prompt_posts(fake, a.prompts)))  # not at 19:00:15
    assert runner.clock.now() == DUE
    await handled_now(runner, bot)
    assert alerts(fake, a.mods) == [] and len(prompt_posts(fake, a.prompts)) == 1
