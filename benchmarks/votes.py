"""Benchmark: 1,000 members cast 5,000 P(Doom) votes, 50 in flight, against the bot and a minimal bot.

    python -m benchmarks.votes [--votes 5000] [--members 1000] [--in-flight 50] [--synchronous FULL|NORMAL]

Both bots run as their own process (the minimal one is in benchmarks/contenders.py) against the same in-process
fake Discord, one after the other in the same run. The minimal bot's vote does one INSERT + commit before
replying; ours also keeps a current answer per member, checks the round is open, throttles poll-message edits
and may show aggregates.
Targets (issue 4): 0 lost; at least half the minimal bot's votes/s; ack p99 at most 2x the minimal bot's;
at most one poll-message edit per 2 s; a chart under 300 ms.
--synchronous sets SQLite's durability for both bots alike (DATABASE_SYNCHRONOUS for ours; the bot's default is
FULL, a commit synced to disk before the member is told); run it with each value to see what FULL costs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks._harness import cast_votes, subcommand
from bot import charts
from bot.domain.pdoom import private_bins, summarize
from tests.fakediscord import Channel, FakeDiscord, Member, running_fake
from tests.processes import bot_environment, start_process


@dataclass
class Run:
    """What one bot did under load."""

    name: str
    votes: int
    seconds: float
    latencies_ms: list[float]
    acknowledged: int
    stored: int
    poll_edits: list[float]
    #: CPU seconds the bot process spent during the burst (user + system), where measured.
    cpu_seconds: float | None = None

    def percentile(self, q: int) -> float:
        """Return the q-th percentile ack latency in ms."""
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    @property
    def rate(self) -> float:
        """Return votes per second."""
        return self.votes / self.seconds


def process_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def edit_times(fake: FakeDiscord, message_id: int, since: float) -> list[float]:
    """Return when the poll message was edited (fake's loop time), after `since`."""
    return [
        r.at
        for r in fake.requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
        if r.path.endswith(f"/{message_id}") and r.at >= since
    ]


async def run_bot(
    fake: FakeDiscord, admin: Member, channel: Channel, members: list[Member], args: argparse.Namespace, env: dict
) -> Run:
    """Measure the real bot."""
    database = Path(env["DATABASE_PATH"])
    process = await start_process(fake, env)
    try:
        await (await fake.invoke(admin, subcommand(fake, "pdoom", "open"), channel=channel)).reply(timeout=30)
        poll = await fake.wait_for_message(channel, lambda m: "P(doom) round" in m.text and bool(m.components))
        began = asyncio.get_running_loop().time()
        cpu_before = process_cpu_seconds(process.pid)
        seconds, latencies, acked = await cast_votes(fake, poll, members, args.votes, args.in_flight, random.Random(1))
        cpu = process_cpu_seconds(process.pid) - cpu_before
        await asyncio.sleep(3.5)  # let the last throttled poll edit happen
        edits = edit_times(fake, poll.id, began)
    finally:
        process.terminate()
        await process.wait()
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM pdoom_votes").fetchone()[0]
    return Run("bot", args.votes, seconds, latencies, acked, stored, edits, cpu)


async def run_minimal(
    fake: FakeDiscord, channel: Channel, members: list[Member], args: argparse.Namespace, env: dict
) -> Run:
    """Measure the minimal bot."""
    database = Path(env["DATABASE_PATH"])
    env = {**env, "POLL_CHANNEL_ID": str(channel.id)}
    process = await start_process(fake, env, ("-m", "benchmarks.contenders", "minimal"))
    try:
        poll = await fake.wait_for_message(channel, lambda m: "(minimal)" in m.text, timeout=30)
        seconds, latencies, acked = await cast_votes(fake, poll, members, args.votes, args.in_flight, random.Random(1))
    finally:
        process.terminate()
        await process.wait()
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
    return Run("minimal bot", args.votes, seconds, latencies, acked, stored, [])


def chart_timing(members: int) -> tuple[float, float]:
    """Return (first, warm median) seconds to draw a results histogram of `members` answers."""
    rng = random.Random(2)
    values = [min(max(rng.lognormvariate(-2.5, 1.5), 0.0001), 0.9999) for _ in range(members)]
    bins, summary = private_bins(values), summarize(values)
    if summary is None:
        raise RuntimeError("no values")
    times = []
    for _ in range(6):
        start = time.perf_counter()
        charts.histogram_png(bins, summary, "What is your P(doom)?")
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


async def measure(args: argparse.Namespace, which: str, scratch: str) -> Run:
    """Run one bot against a fresh fake, so neither inherits the other's requests and heap."""
    gc.collect()
    Path(scratch).mkdir(parents=True)
    async with running_fake() as fake:
        guild = fake.add_guild("Benchmark guild")
        admin = guild.add_member("admin", permissions=1 << 5)
        members = [guild.add_member(f"member{i}") for i in range(args.members)]
        channel = guild.add_text_channel("polls")
        env = bot_environment(fake, Path(scratch) / "votes.sqlite3", DATABASE_SYNCHRONOUS=args.synchronous)
        if which == "minimal":
            return await run_minimal(fake, channel, members, args, env)
        return await run_bot(fake, admin, channel, members, args, env)


async def main_async(args: argparse.Namespace) -> None:
    """Run both bots and print the comparison."""
    runs: dict[str, list[Run]] = {"minimal": [], "bot": []}
    with tempfile.TemporaryDirectory() as scratch:
        # Alternate the two bots, so drift on a shared machine hits both alike; report each one's median run.
        for index in range(args.repeat):
            for which in ("minimal", "bot"):
                run = await measure(args, which, str(Path(scratch) / f"{which}{index}"))
                runs[which].append(run)
                print(f"  run {index + 1} {run.name}: {run.rate:.0f} votes/s, p99 {run.percentile(99):.1f} ms")
    minimal = sorted(runs["minimal"], key=lambda r: r.percentile(99))[len(runs["minimal"]) // 2]
    ours = sorted(runs["bot"], key=lambda r: r.percentile(99))[len(runs["bot"]) // 2]
    first_chart, warm_chart = chart_timing(args.members)
    print(
        f"{args.votes} votes from {args.members} members, {args.in_flight} in flight; median of {args.repeat} runs; "
        f"synchronous={args.synchronous}"
    )
    for run in (minimal, ours):
        print(
            f"{run.name:12s} {run.rate:7.0f} votes/s   ack p50 {run.percentile(50):6.1f} ms   "
            f"p99 {run.percentile(99):6.1f} ms   acknowledged {run.acknowledged}   stored {run.stored}   "
            f"lost {run.acknowledged - run.stored if run.stored < run.acknowledged else 0}"
        )
    gaps = [b - a for a, b in zip(ours.poll_edits, ours.poll_edits[1:], strict=False)]
    print(
        f"poll-message edits during the run: {len(ours.poll_edits)} (shortest gap {min(gaps):.2f} s)"
        if gaps
        else f"poll-message edits during the run: {len(ours.poll_edits)}"
    )
    print(f"throughput ratio {ours.rate / minimal.rate:.2f} (target >= 0.5); "
          f"p99 ratio {ours.percentile(99) / minimal.percentile(99):.2f} (target <= 2)")  # fmt: skip
    print(f"chart: first {first_chart * 1000:.0f} ms (includes importing matplotlib), then {warm_chart * 1000:.0f} ms")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each bot, alternating; medians reported")
    parser.add_argument(
        "--synchronous", choices=("FULL", "NORMAL"), default="FULL", help="SQLite durability for both bots"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
