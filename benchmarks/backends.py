"""Benchmark: the same P(Doom) vote workload on SQLite, on PostgreSQL, and on PostgreSQL split over two processes.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m benchmarks.backends [--repeat 3]

Each run starts the real bot (`python -m bot`) against a fresh in-process fake Discord and a fresh database: a new
SQLite file, or a new PostgreSQL database created on the server TEST_DATABASE_URL names (dropped afterwards). The
third contender runs two bot processes on one PostgreSQL database (SHARD_COUNT=2, SHARD_IDS=0 and 1), each answering
its own guild; the members, the votes and the in-flight budget are split between the two guilds, and the halves run
at the same time. The contenders alternate, so drift on a shared machine hits all alike; the median run of each (by
ack p99) is reported. Every acknowledged vote must be stored. Target (issue 11): PostgreSQL reaches at least 0.7x
SQLite's votes/s.
On a 2-core machine both bot processes, the fake Discord and the load generator share the two cores, and every write
still serializes on one database, so the two-process figure shows what splitting costs or gains, not linear scaling.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks._harness import World, cast_votes, open_poll, wait_for_new_session
from benchmarks.votes import Run, edit_times
from tests.conftest import create_database, drop_database, new_database_name
from tests.fakediscord import FakeDiscord, Permissions, running_fake
from tests.processes import bot_environment, start_process

SQLITE, POSTGRESQL, TWO_PROCESSES = "sqlite", "postgresql", "postgresql, 2 processes"
SHARD_COUNT = 2
SPLIT_NOTE = (
    "On a 2-core machine both bot processes, the fake Discord and the load generator share the two cores, and all "
    "writes serialize on one database: the two-process figure is the cost/benefit of splitting, not linear scaling."
)


async def stored_votes(env: dict[str, str]) -> int:
    """Count the votes the bot stored, in its PostgreSQL database if it has one, else in its SQLite file."""
    if "DATABASE_URL" not in env:
        with sqlite3.connect(env["DATABASE_PATH"]) as conn:
            return int(conn.execute("SELECT count(*) FROM pdoom_votes").fetchone()[0])
    import asyncpg

    conn = await asyncpg.connect(env["DATABASE_URL"])
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pdoom_votes"))
    finally:
        await conn.close()


def add_world(fake: FakeDiscord, members: int, shard: tuple[int, int] | None = None) -> World:
    """Add a benchmark guild (on `shard`, if given) with an admin, `members` members and #polls."""
    guild = fake.add_guild(f"Benchmark guild {shard[0] if shard else ''}".strip(), shard=shard)
    admin = guild.add_member("admin", permissions=Permissions.MANAGE_GUILD)
    people = [guild.add_member(f"member{i}") for i in range(members)]
    return World(fake, admin, people, guild.add_text_channel("polls"))


def split(total: int) -> tuple[int, int]:
    """Split `total` into two halves (the first takes the odd one), neither below 1."""
    first = max((total + 1) // 2, 1)
    return first, max(total - first, 1)


async def stop(processes: list[asyncio.subprocess.Process]) -> None:
    """Terminate the bot processes (they stop cleanly on SIGTERM) and wait for them."""
    for process in processes:
        if process.returncode is None:
            process.terminate()
    for process in processes:
        await process.wait()


async def start_shard(fake: FakeDiscord, env: dict[str, str], shard_id: int, log: Path) -> asyncio.subprocess.Process:
    """Start the bot process of one shard and wait until that shard's own session has READY and its guilds.

    start_process alone would return once *any* session is connected, which the first shard's already is.
    """
    known = set(fake.gateway.sessions)
    process = await start_process(fake, env, output=log)
    try:
        await wait_for_new_session(fake, known)
        shard = (shard_id, SHARD_COUNT)
        await fake.gateway.changed.wait_for(lambda: shard in fake.connections, 60, f"shard {shard} to connect")
        await fake.sync(timeout=60)
    except BaseException:
        await stop([process])
        raise
    return process


async def one_process(args: argparse.Namespace, scratch: Path, extra: dict[str, str]) -> Run:
    """Run one bot process (SQLite, or PostgreSQL with `extra`'s DATABASE_URL) against a fresh fake."""
    async with running_fake() as fake:
        world = add_world(fake, args.members)
        env = bot_environment(fake, scratch / "votes.sqlite3", **extra)
        process = await start_process(fake, env, output=scratch / "bot.log")
        try:
            poll = await open_poll(world)
            began = asyncio.get_running_loop().time()
            seconds, latencies, acked = await cast_votes(
                fake, poll, world.members, args.votes, args.in_flight, random.Random(1)
            )
            edits = edit_times(fake, poll.id, began)
        finally:
            await stop([process])
        stored = await stored_votes(env)
    name = POSTGRESQL if extra else SQLITE
    return Run(name, args.votes, seconds, latencies, acked, stored, edits)


async def two_processes(args: argparse.Namespace, scratch: Path, url: str) -> Run:
    """Run shard 0 and shard 1 of 2 as two bot processes on one database, each voting in its own guild at once."""
    async with running_fake() as fake:
        worlds = [
            add_world(fake, members, (shard_id, SHARD_COUNT)) for shard_id, members in enumerate(split(args.members))
        ]
        processes: list[asyncio.subprocess.Process] = []
        try:
            for shard_id in range(SHARD_COUNT):  # shard 0 first: only its process syncs the commands
                env = bot_environment(
                    fake,
                    scratch / "unused.sqlite3",
                    DATABASE_URL=url,
                    SHARD_COUNT=str(SHARD_COUNT),
                    SHARD_IDS=str(shard_id),
                )
                processes.append(await start_shard(fake, env, shard_id, scratch / f"shard{shard_id}.log"))
            polls = [await open_poll(world) for world in worlds]
            began = asyncio.get_running_loop().time()
            start = time.perf_counter()
            halves = await asyncio.gather(
                *(
                    cast_votes(fake, poll, world.members, votes, in_flight, random.Random(index + 1))
                    for index, (world, poll, votes, in_flight) in enumerate(
                        zip(worlds, polls, split(args.votes), split(args.in_flight), strict=True)
                    )
                )
            )
            seconds = time.perf_counter() - start  # the combined burst, from first click to last ack of either half
            edits = sorted(at for poll in polls for at in edit_times(fake, poll.id, began))
        finally:
            await stop(processes)
        stored = await stored_votes({"DATABASE_URL": url})
    latencies = [ms for _, half_latencies, _ in halves for ms in half_latencies]
    acked = sum(half_acked for _, _, half_acked in halves)
    return Run(TWO_PROCESSES, sum(split(args.votes)), seconds, latencies, acked, stored, edits)


async def measure(args: argparse.Namespace, contender: str, scratch: Path) -> Run:
    """Run one contender against a fresh fake and a fresh database."""
    gc.collect()
    scratch.mkdir(parents=True)
    if contender == SQLITE:
        return await one_process(args, scratch, {})
    name = new_database_name()
    url = await create_database(name)
    try:
        if contender == POSTGRESQL:
            return await one_process(args, scratch, {"DATABASE_URL": url})
        return await two_processes(args, scratch, url)
    finally:
        await drop_database(name)


async def main_async(args: argparse.Namespace) -> None:
    """Run the contenders alternately and print the comparison."""
    runs: dict[str, list[Run]] = {SQLITE: [], POSTGRESQL: [], TWO_PROCESSES: []}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.repeat):
            for number, contender in enumerate(runs):
                run = await measure(args, contender, Path(scratch) / f"run{index}-{number}")
                runs[contender].append(run)
                print(f"  run {index + 1} {contender}: {run.rate:.0f} votes/s, p99 {run.percentile(99):.1f} ms")
    median = {c: sorted(rs, key=lambda r: r.percentile(99))[len(rs) // 2] for c, rs in runs.items()}
    print(f"{args.votes} votes from {args.members} members, {args.in_flight} in flight; median of {args.repeat} runs")
    for run in median.values():
        lost = max(run.acknowledged - run.stored, 0)
        print(
            f"{run.name:23s} {run.rate:7.0f} votes/s   ack p50 {run.percentile(50):6.1f} ms   "
            f"p99 {run.percentile(99):6.1f} ms   acknowledged {run.acknowledged}   stored {run.stored}   lost {lost}"
        )
    sqlite, postgres, split_run = median[SQLITE], median[POSTGRESQL], median[TWO_PROCESSES]
    ratio = postgres.rate / sqlite.rate
    print(f"PostgreSQL / SQLite throughput {ratio:.2f} (target >= 0.7: {'PASS' if ratio >= 0.7 else 'MISS'}); "
          f"p99 ratio {postgres.percentile(99) / sqlite.percentile(99):.2f}")  # fmt: skip
    print(f"PostgreSQL 2 processes / 1 process throughput {split_run.rate / postgres.rate:.2f}; "
          f"p99 ratio {split_run.percentile(99) / postgres.percentile(99):.2f}")  # fmt: skip
    print(SPLIT_NOTE)


def main() -> None:
    """Parse arguments and run."""
    if not os.environ.get("TEST_DATABASE_URL"):
        raise SystemExit(
            "Set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test (a server to create databases on)"
        )
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=3000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50, help="overall; the two-process run splits it")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each contender, alternating; medians reported")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
