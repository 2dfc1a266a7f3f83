"""Weekly prompts through the fake Discord, with a clock the tests move: exactly one post and thread per week."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.bot import AlignmentBot
from bot.domain.shards import EVERY_SHARD, ShardScope
from tests.e2e.conftest import BotRunner, Server, eventually
from tests.fakediscord import Channel, FakeDiscord, Message, Permissions, fast_http_retries

# The runner's clock starts on Friday 2026-11-27 at 12:00 UTC; London is on UTC in November.
DUE = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
SUGGEST = "align:prompt:suggest:"  # the custom_id of the button under every post, followed by the post's id
LEGACY_FOOTER = "Weekly prompt · "  # what posts said before the button existed


async def schedule(fake: FakeDiscord, server: Server, channel: Channel, **options: Any) -> str:
    """Run /prompts-admin schedule as the admin (Fridays 19:00 Europe/London unless overridden)."""
    values = {"channel": channel, "weekday": 4, "time": "19:00", "timezone": "Europe/London", **options}
    reply = await (await fake.invoke(server.admin, "prompts-admin schedule", values, channel=server.general)).reply()
    return reply.content


def marker_of(message: Message) -> str | None:
    """Return the post marker (its button's custom_id) a message carries, if any."""
    return next((cid for cid in message.custom_ids if cid.startswith(SUGGEST)), None)


def prompt_posts(fake: FakeDiscord, channel: Channel) -> list[Message]:
    """Return the bot's weekly prompt posts in a channel: those with a post's button, or the old footer."""
    return [
        m
        for m in fake.messages_in(channel)
        if m.author.id == fake.bot_user.id
        and (
            marker_of(m) is not None
            or any((e.get("footer") or {}).get("text", "").startswith(LEGACY_FOOTER) for e in m.embeds)
        )
    ]


async def handled_now(runner: BotRunner, bot: AlignmentBot) -> None:
    """Wake the scheduler and wait until a pass that began at the current (fake) time has finished.

    Checks that nothing happened come after this, so they cannot pass merely because the bot is slow: whatever was
    due at this moment has been done by then. The pass's two schedule queries tell when it began and ended.
    """
    moment = runner.clock.now()
    schedules = bot.db.schedules
    real_due, real_next = schedules.due_schedules, schedules.next_schedule_due
    began: list[datetime] = []
    finished = asyncio.Event()

    async def due(now: datetime, limit: int = 500, shards: ShardScope = EVERY_SHARD) -> Any:
        began.append(now)
        return await real_due(now, limit, shards)

    async def next_due(shards: ShardScope = EVERY_SHARD) -> Any:
        result = await real_next(shards)
        if began and began[-1] >= moment:
            finished.set()
        return result

    schedules.due_schedules, schedules.next_schedule_due = due, next_due  # type: ignore[method-assign]
    try:
        cog(bot).scheduler.wake()
        await asyncio.wait_for(finished.wait(), 5)
    finally:
        schedules.due_schedules, schedules.next_schedule_due = real_due, real_next  # type: ignore[method-assign]


async def last_outcome(bot: AlignmentBot, server: Server) -> str | None:
    """Return what the scheduler last recorded for the server."""
    row = await bot.db.schedules.get_schedule(server.guild.id)
    return row.last_outcome if row else None


async def crash(*args: object, **kwargs: object) -> None:
    """Stand in for a step the process dies in."""
    raise RuntimeError("the process died here")


def cog(bot: AlignmentBot) -> Any:
    """Return the Prompts cog (untyped: load_extension executes the module afresh)."""
    return bot.get_cog("Prompts")


async def retrying(bot: AlignmentBot, guild_id: int, attempts: int = 1) -> Any:
    """Return the server's schedule once it waits to retry after `attempts` failed tries (for `eventually`)."""
    row = await bot.db.schedules.get_schedule(guild_id)
    return row if row is not None and row.retry_at is not None and row.attempts >= attempts else None


async def moved_to(bot: AlignmentBot, guild_id: int, local_date: str) -> Any:
    """Return the server's schedule once its next occurrence is `local_date` (for `eventually`)."""
    row = await bot.db.schedules.get_schedule(guild_id)
    return row if row is not None and row.next_local_date == local_date else None


async def with_thread(bot: AlignmentBot, guild_id: int, occurrence: str = "2026-11-27") -> Any:
    """Return the occurrence's post once its thread is recorded (for `eventually`)."""
    post = await bot.db.prompts.post_for_occurrence(guild_id, occurrence)
    return post if post is not None and post.thread_id is not None else None


async def test_schedule_posts_exactly_once_with_a_thread(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """When the clock reaches Friday 19:00 London time, one prompt and one thread appear, and only one."""
    answer = await schedule(fake, server, server.general)
    assert "Fridays at 19:00 (Europe/London)" in answer and f"<t:{int(DUE.timestamp())}:F>" in answer
    await runner.clock.advance(timedelta(hours=6, minutes=59))
    await handled_now(runner, bot)
    assert prompt_posts(fake, server.general) == []
    await runner.clock.advance(timedelta(minutes=1))
    post = await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await fake.wait_for_request("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    await runner.clock.advance(timedelta(hours=1))
    await handled_now(runner, bot)
    assert len(prompt_posts(fake, server.general)) == 1
    assert len(fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads")) == 1
    assert post.embeds[0]["footer"]["text"] == "Weekly prompt · 2026-11-27"
    recorded = await bot.db.prompts.post_for_occurrence(server.guild.id, "2026-11-27")
    assert recorded is not None and marker_of(post) == f"{SUGGEST}{recorded.id}"
    await eventually(lambda: last_outcome(bot, server))
    status = await (await fake.invoke(server.admin, "prompts-admin status", channel=server.general)).reply()
    assert "Friday 04 December 2026, 19:00 Europe/London" in status.text
    assert "Posted prompt #1 for 2026-11-27" in status.text


async def test_failed_thread_is_retried(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """A thread Discord failed to create (5xx on every retry) is created on a later pass, and the post stays single."""
    await schedule(fake, server, server.general)
    route = "/channels/{channel_id}/messages/{message_id}/threads"
    fake.fail_next("POST", route, status=500, times=5)  # discord.py's retries for one request all fail
    with fast_http_retries():
        await runner.clock.advance(timedelta(hours=7))
        await eventually(lambda: bot.db.prompts.posts_missing_thread(runner.clock.now()))
        failed_at = runner.clock.now()

        async def retry_scheduled() -> bool:  # the scheduler now sleeps until the retry, not next week
            return any(moment < failed_at + timedelta(hours=1) for moment in runner.clock.sleepers)

        await eventually(retry_scheduled)
        await runner.clock.advance(timedelta(minutes=6))
        await fake.changed.wait_for(
            lambda: [r.status for r in fake.requests_to("POST", route)][-1] < 300, 5, "a successful retry"
        )
    assert await eventually(lambda: _no_missing_threads(bot))
    assert len(prompt_posts(fake, server.general)) == 1


async def _no_missing_threads(bot: AlignmentBot) -> bool:
    return await bot.db.prompts.posts_missing_thread(datetime(2100, 1, 1, tzinfo=UTC)) == []


async def test_forum_channel_gets_a_forum_post(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """In a forum channel, each prompt becomes a forum post."""
    forum = server.guild.add_forum_channel("weekly-questions")
    await fake.sync()
    await schedule(fake, server, forum)
    await runner.clock.advance(timedelta(hours=7))
    request = await fake.wait_for_request("POST", "/channels/{channel_id}/threads")
    assert request.status in (200, 201)
    threads = [t for t in server.guild.threads if t.parent_id == forum.id]
    assert len(threads) == 1
    starter = fake.messages_in(threads[0])[0]
    assert starter.embeds[0]["footer"]["text"] == "Weekly prompt · 2026-11-27"
    recorded = await eventually(lambda: with_thread(bot, server.guild.id))
    assert marker_of(starter) == f"{SUGGEST}{recorded.id}" and recorded.thread_id == threads[0].id


async def test_missing_permission_is_reported_with_its_name(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """When the bot loses Send Messages in the prompt channel, admins are told exactly that in the mod channel."""
    mods = server.guild.add_text_channel("mods")
    await fake.sync()
    await schedule(fake, server, server.general, mod_channel=mods)
    server.guild.set_overwrite(server.general, server.guild.bot_member, deny=Permissions.SEND_MESSAGES)
    await fake.sync()
    await runner.clock.advance(timedelta(hours=7))
    alert = await fake.wait_for_message(mods, lambda m: "couldn't post" in m.content)
    assert f"I lack Send Messages in <#{server.general.id}>" in alert.content
    assert prompt_posts(fake, server.general) == []


async def test_role_ping_is_the_only_mention(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """The configured role is pinged; an @everyone inside the prompt's text pings nobody."""
    readers = server.guild.add_role("readers", mentionable=True)
    await fake.sync()
    await schedule(fake, server, server.general, ping_role=readers)
    for prompt in await bot.db.prompts.list_prompts(server.guild.id, "approved", limit=100):
        await bot.db.prompts.update_prompt(server.guild.id, prompt.id, status="retired")
    await fake.invoke(
        server.admin,
        "prompts-admin add",
        {"text": f"@everyone {server.admin.mention} what would change your mind about AI risk?"},
        channel=server.general,
    )
    await runner.clock.advance(timedelta(hours=7))
    post = await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    assert post.pinged.roles == frozenset({readers.id})
    assert not post.pinged.everyone and not post.pinged.users


async def test_short_downtime_posts_late_once_long_downtime_reports(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """Down over a due time by less than the grace period: posted late, once. Down for weeks: skipped and reported."""
    await runner.start()
    await schedule(fake, server, server.general)
    await runner.stop()
    await runner.clock.advance(timedelta(hours=10))  # 3 hours past Friday 19:00
    await runner.start()
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await runner.stop()
    await runner.clock.set(datetime(2026, 12, 25, 12, 0, tzinfo=UTC))  # missed 4 Fridays (Dec 4, 11, 18 + ...)
    bot = await runner.start()
    alert = await fake.wait_for_message(server.general, lambda m: "Missed" in m.content)
    assert "Missed 3 weekly post(s)" in alert.content
    schedule_row = await eventually(lambda: moved_to(bot, server.guild.id, "2026-12-25"))
    assert schedule_row.last_outcome == alert.content.removeprefix("⚠️ Weekly prompts: ")
    await handled_now(runner, bot)
    assert len(prompt_posts(fake, server.general)) == 1


async def test_skip_and_pause(fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot) -> None:
    """Skip drops the next post only; pause stops posting until resumed."""
    await schedule(fake, server, server.general)
    skipped = await (await fake.invoke(server.admin, "prompts-admin skip", channel=server.general)).reply()
    assert skipped.content == "The post of 2026-11-27 will be skipped."
    await runner.clock.advance(timedelta(hours=7))

    assert await eventually(lambda: last_outcome(bot, server)) == "Skipped 2026-11-27"
    assert prompt_posts(fake, server.general) == []
    paused = await (await fake.invoke(server.admin, "prompts-admin pause", channel=server.general)).reply()
    assert paused.content == "Weekly prompts are paused."
    await runner.clock.advance(timedelta(days=7))
    await handled_now(runner, bot)  # the paused week's due time has come and gone
    assert prompt_posts(fake, server.general) == []
    await (await fake.invoke(server.admin, "prompts-admin resume", channel=server.general)).reply()
    await runner.clock.advance(timedelta(days=7))
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))


async def test_engagement_is_counted_in_stats(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: AlignmentBot
) -> None:
    """Messages in a prompt's thread are counted, with distinct members, and shown by /prompts-admin stats."""
    await schedule(fake, server, server.general)
    await runner.clock.advance(timedelta(hours=7))
    await fake.wait_for_request("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    await eventually(lambda: bot.db.prompts.recent_threads(runner.clock.now() - timedelta(days=1)))
    thread = server.guild.threads[-1]
    for who, text in ((server.member, "first"), (server.admin, "second"), (server.member, "third")):
        fake.say(who, thread, text)
    await fake.sync()

    async def counted() -> bool:
        return [(s.messages, s.participants) for s in await bot.db.prompts.post_stats(server.guild.id)] == [(3, 2)]

    await eventually(counted)
    stats = await (await fake.invoke(server.admin, "prompts-admin stats", channel=server.general)).reply()
    assert "3 message(s), 2 member(s)" in stats.text


async def test_starter_prompts_import_once_and_the_list_pages(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """Starter prompts are imported on first run without duplicates; the list is paginated."""
    total = len(bot.library.store.prompts)

    async def imported() -> bool:  # the scheduler's first pass imports them; wait for it, however fast the database
        return await bot.db.prompts.count_prompts(server.guild.id) == total

    await eventually(imported)
    again = await (await fake.invoke(server.admin, "prompts-admin import", channel=server.general)).reply()
    assert again.content == f"Imported 0 starter prompt(s); {total} were already here."
    listing = await (await fake.invoke(server.admin, "prompts-admin list", channel=server.general)).reply()
    assert "Page 1 of" in listing.text
    next_id = next(c["custom_id"] for row in listing.components for c in row["components"] if c["label"] == "Next")
    second = await (await fake.click(server.admin, listing, next_id)).reply()
    assert "Page 2 of" in second.text
