"""Benchmark: 10,000 server schedules; find the next due post, then process 1,000 posts due at once.

    python -m benchmarks.prompts [--schedules 10000] [--due 1000]

The bot runs in this process against the fake Discord (which models no rate limits), with a test clock that
jumps to the due moment. Target (issue 5): finding the next due occurrence under 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time as timer
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.bot import AlignmentBot
from bot.db import Database
from bot.domain.content_loader import load_content
from bot.domain.prompts import Schedule
from bot.domain.schedule import load_zone, next_occurrence, zone_suggestions
from bot.domain.search import Library
from bot.settings import Settings
from tests.clock import FakeClock
from tests.fakediscord import connected_client, running_fake

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def percentile(samples: list[float], q: int) -> float:
    """Return the q-th percentile."""
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def fill(db: Database, real: list[tuple[int, int]], total: int, rng: random.Random) -> datetime:
    """Store `total` schedules: the `real` (guild, channel) pairs all due at one moment, the rest later."""
    zones = zone_suggestions("/", limit=400)
    due_at = START + timedelta(hours=1)
    async with db.transaction():
        for index in range(total):
            zone = load_zone(rng.choice(zones))
            if index < len(real):
                guild_id, channel_id = real[index]
                local = due_at.astimezone(zone)
                weekday, at = local.weekday(), local.time().replace(second=0, microsecond=0)
                occurrence = next_occurrence(due_at - timedelta(seconds=1), weekday, at, zone)
            else:
                guild_id, channel_id = 10_000_000 + index, 20_000_000 + index
                weekday, at = rng.randrange(7), time(rng.randrange(24))
                occurrence = next_occurrence(due_at + timedelta(hours=1), weekday, at, zone)
            await db.schedules.save_schedule(
                Schedule(
                    guild_id=guild_id,
                    channel_id=channel_id,
                    weekday=weekday,
                    local_time=at,
                    timezone=str(zone),
                    ping_role_id=None,
                    open_thread=True,
                    mod_channel_id=None,
                    paused=False,
                    skip_next=False,
                    grace_hours=12,
                    next_due_at=occurrence.due,
                    next_local_date=occurrence.local_date.isoformat(),
                    last_outcome=None,
                )
            )
    return due_at


async def run(args: argparse.Namespace) -> None:
    """Build the world, measure the lookup, then let the scheduler post everything that is due."""
    rng = random.Random(5)
    async with running_fake() as fake:
        guilds = []
        for index in range(args.due):
            guild = fake.add_guild(f"Server {index}")
            guilds.append((guild, guild.add_text_channel("discussion")))
        with tempfile.TemporaryDirectory() as scratch:
            settings = Settings(discord_token=fake.token, database_path=Path(scratch) / "bench.sqlite3")
            async with await Database.open(settings.database_path) as db:
                due_at = await fill(db, [(g.id, c.id) for g, c in guilds], args.schedules, rng)
                lookups = []
                for _ in range(500):
                    started = timer.perf_counter()
                    found = await db.schedules.next_schedule_due()
                    lookups.append((timer.perf_counter() - started) * 1000)
                assert found == due_at  # noqa: S101 - the benchmark checks what it measures
                started = timer.perf_counter()
                due = await db.schedules.due_schedules(due_at, limit=args.due)
                list_ms = (timer.perf_counter() - started) * 1000

                clock = FakeClock(START)
                bot = AlignmentBot(
                    settings=settings,
                    db=db,
                    library=Library.build(load_content(ROOT / "content")),
                    clock=clock,
                    guild_ready_timeout=0.5,
                )
                async with connected_client(fake, bot, timeout=120):
                    await fake.sync(timeout=120)
                    # Starter prompts are imported for every server on start-up; wait for that to finish.
                    while await db.prompts.count_prompts(guilds[-1][0].id) == 0:
                        await asyncio.sleep(0.05)
                    started = timer.perf_counter()
                    await clock.set(due_at)
                    while (left := len(await db.schedules.due_schedules(due_at, limit=args.due))) > 0:
                        await asyncio.sleep(0.05)
                    process_s = timer.perf_counter() - started
                    messages = sum(len(fake.messages_in(channel)) for _, channel in guilds)
                    threads = len(fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads"))
    print(f"{args.schedules} schedules in the database, {len(due)} due at the same moment")
    print(
        f"find the next due occurrence: p50 {percentile(lookups, 50):.3f} ms, p99 {percentile(lookups, 99):.3f} ms "
        "(target < 10 ms)"
    )
    print(f"list the {len(due)} due schedules: {list_ms:.1f} ms")
    print(
        f"process {len(due)} due posts against the fake: {process_s:.2f} s "
        f"({len(due) / process_s:.0f} posts/s), {messages} messages, {threads} threads, {left} left due"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
