"""The background work's queries keep to the servers of a process's shards, on each backend."""

from __future__ import annotations

from datetime import timedelta

from bot.db import Database
from bot.domain.shards import EVERY_SHARD, ShardScope, shard_of
from tests.db.test_pdoom_db import NOW, open_round
from tests.db.test_prompts_db import LATER, STARTERS, schedule

# Snowflake-sized server ids (a 2024 timestamp in the high bits), one per shard of 4: GUILDS[n] is on shard n.
GUILDS = [((1_720_000_000_000 + n) << 22) | 12_345 for n in range(4)]
LOW = ShardScope(4, frozenset({0, 1}))
HIGH = ShardScope(4, frozenset({2, 3}))


def test_the_servers_sit_on_their_shards() -> None:
    """The premise of the tests below."""
    assert [shard_of(guild_id, 4) for guild_id in GUILDS] == [0, 1, 2, 3]


async def test_due_rounds_and_the_next_closing_time_keep_to_the_shards(db: Database) -> None:
    """Overdue rounds of shards 0-1 are due for LOW only, and its next closing time ignores shards 2-3."""
    # Shard 0's and 1's rounds closed 2 and 1 minutes ago; shard 2's and 3's close in 2 and 3 minutes.
    closing = [NOW + timedelta(minutes=m) for m in (-2, -1, 2, 3)]
    rounds = [await open_round(db, guild_id, closes_at=at) for guild_id, at in zip(GUILDS, closing, strict=True)]
    assert {r.guild_id for r in await db.polls.rounds_due(NOW, shards=LOW)} == set(GUILDS[:2])
    assert await db.polls.rounds_due(NOW, shards=HIGH) == []
    assert len(await db.polls.rounds_due(NOW)) == 2
    assert await db.polls.next_closing_time(shards=LOW) == rounds[0].closes_at
    assert await db.polls.next_closing_time(shards=HIGH) == rounds[2].closes_at
    assert await db.polls.next_closing_time(shards=EVERY_SHARD) == rounds[0].closes_at


async def test_due_schedules_and_the_next_due_time_keep_to_the_shards(db: Database) -> None:
    """Every schedule is due; each scope gets its own two, and its own earliest due time."""
    for n, guild_id in enumerate(GUILDS):
        await db.schedules.save_schedule(schedule(guild_id, NOW - timedelta(hours=4 - n)))
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW, shards=LOW)] == GUILDS[:2]
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW, limit=1, shards=HIGH)] == GUILDS[2:3]
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW)] == GUILDS
    assert await db.schedules.next_schedule_due(shards=HIGH) == NOW - timedelta(hours=2)
    assert await db.schedules.next_schedule_due(shards=ShardScope(4, frozenset({3}))) == NOW - timedelta(hours=1)
    assert await db.schedules.next_schedule_due() == NOW - timedelta(hours=4)


async def test_claimed_posts_and_thread_retries_keep_to_the_shards(db: Database) -> None:
    """A claimed post, a post missing its thread and a thread retry are each seen by their shard's scope only."""
    posts = []
    for guild_id in GUILDS[1:4]:
        await db.prompts.import_starter_prompts(guild_id, STARTERS, NOW)
        prompt = (await db.prompts.list_prompts(guild_id, "approved"))[0]
        post = await db.prompts.claim_post(
            guild_id=guild_id,
            occurrence="d",
            prompt_id=prompt.id,
            channel_id=5,
            wants_thread=True,
            now=NOW,
            deadline=LATER,
        )
        assert post is not None
        posts.append(post)
    claimed_in_1, missing_thread_in_2, retrying_in_3 = posts
    await db.prompts.complete_post(missing_thread_in_2.id, 99, NOW)
    await db.prompts.complete_post(retrying_in_3.id, 98, NOW)
    await db.prompts.retry_thread_later(retrying_in_3.id, NOW + timedelta(minutes=2))
    assert [p.id for p in await db.prompts.claimed_posts(NOW, shards=LOW)] == [claimed_in_1.id]
    assert await db.prompts.claimed_posts(NOW, shards=HIGH) == []
    assert await db.prompts.posts_missing_thread(NOW, shards=LOW) == []
    assert [p.id for p in await db.prompts.posts_missing_thread(NOW, shards=HIGH)] == [missing_thread_in_2.id]
    assert await db.prompts.next_thread_retry(shards=LOW) is None
    assert await db.prompts.next_thread_retry(shards=HIGH) == NOW + timedelta(minutes=2)
