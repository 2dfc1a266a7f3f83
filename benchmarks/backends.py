"""Benchmark: the same P(Doom) vote workload on SQLite and on PostgreSQL, our bot in one process, side by side.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m benchmarks.backends [--repeat 3]

Each run starts the real bot (`python -m bot`) against a fresh in-process fake Discord and a fresh database: a new
SQLite file, or a new PostgreSQL database created on the server TEST_DATABASE_URL names (dropped afterwards). The two
backends alternate, so drift on a shared machine hits both alike; the median run of each (by ack p99) is reported.
Every acknowledged vote must be stored. Target (issue 11): PostgreSQL reaches at least 0.7x SQLite's votes/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import tempfile
from pathlib import Path

from benchmarks._harness import cast_votes, subcommand
from benchmarks.votes import Run, edit_times
from tests.conftest import create_database, drop_database, new_database_name
from tests.fakediscord import running_fake
from tests.processes import bot_environment, start_process


async def stored_votes(backend: str, env: dict[str, str]) -> int:
    """Count the votes the bot stored."""
    if backend == "sqlite":
        with sqlite3.connect(env["DATABASE_PATH"]) as conn:
            return int(conn.execute("SELECT count(*) FROM pdoom_votes").fetchone()[0])
    import asyncpg

    conn = await asyncpg.connect(env["DATABASE_URL"])
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pdoom_votes"))
    finally:
        await conn.close()


async def measure(args: argparse.Namespace, backend: str, scratch: Path) -> Run:
    """Run the bot on one backend against a fresh fake and a fresh database."""
    gc.collect()
    scratch.mkdir(parents=True)
    name = new_database_name() if backend == "postgresql" else None
    extra = {"DATABASE_URL": await create_database(name)} if name else {}
    try:
        async with running_fake() as fake:
            guild = fake.add_guild("Benchmark guild")
            admin = guild.add_member("admin", permissions=1 << 5)
            members = [guild.add_member(f"member{i}") for i in range(args.members)]
            channel = guild.add_text_channel("polls")
            env = bot_environment(fake, scratch / "votes.sqlite3", **extra)
            process = await start_process(fake, env)
            try:
                opened = await fake.invoke(admin, subcommand(fake, "pdoom", "open"), channel=channel)
                await opened.reply(timeout=30)
                poll = await fake.wait_for_message(channel, lambda m: "P(doom) round" in m.text and bool(m.components))
                began = asyncio.get_running_loop().time()
                seconds, latencies, acked = await cast_votes(
                    fake, poll, members, args.votes, args.in_flight, random.Random(1)
                )
                edits = edit_times(fake, poll.id, began)
            finally:
                process.terminate()
                await process.wait()
            stored = await stored_votes(backend, env)
        return Run(backend, args.votes, seconds, latencies, acked, stored, edits)
    finally:
        if name:
            await drop_database(name)


async def main_async(args: argparse.Namespace) -> None:
    """Run both backends alternately and print the comparison."""
    runs: dict[str, list[Run]] = {"sqlite": [], "postgresql": []}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.repeat):
            for backend in runs:
                run = await measure(args, backend, Path(scratch) / f"{backend}{index}")
                runs[backend].append(run)
                print(f"  run {index + 1} {backend}: {run.rate:.0f} votes/s, p99 {run.percentile(99):.1f} ms")
    median = {b: sorted(rs, key=lambda r: r.percentile(99))[len(rs) // 2] for b, rs in runs.items()}
    print(f"{args.votes} votes from {args.members} members, {args.in_flight} in flight; median of {args.repeat} runs")
    for run in median.values():
        lost = max(run.acknowledged - run.stored, 0)
        print(
            f"{run.name:11s} {run.rate:7.0f} votes/s   ack p50 {run.percentile(50):6.1f} ms   "
            f"p99 {run.percentile(99):6.1f} ms   acknowledged {run.acknowledged}   stored {run.stored}   lost {lost}"
        )
    sqlite, postgres = median["sqlite"], median["postgresql"]
    ratio = postgres.rate / sqlite.rate
    print(f"PostgreSQL / SQLite throughput {ratio:.2f} (target >= 0.7: {'PASS' if ratio >= 0.7 else 'MISS'}); "
          f"p99 ratio {postgres.percentile(99) / sqlite.percentile(99):.2f}")  # fmt: skip


def main() -> None:
    """Parse arguments and run."""
    if not os.environ.get("TEST_DATABASE_URL"):
        raise SystemExit(
            "Set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test (a server to create databases on)"
        )
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=3000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each backend, alternating; medians reported")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
