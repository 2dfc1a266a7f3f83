"""Benchmark: what the health listener costs the vote path.

Votes/s with HEALTH_PORT unset, and with it set while /metrics and /readyz are scraped every second.

    python -m benchmarks.health [--votes 3000] [--members 600] [--in-flight 50] [--repeat 3]

The real bot runs as its own process (benchmarks/votes.py's run_bot: open a round, cast the votes, every ack
checked stored) against a fresh in-process fake per run; the two settings alternate and medians are reported.
Target (issue 12): under 5% fewer votes/s with the listener on and scraped; off costs nothing (the collectors are
plain counters either way, and no socket or task exists).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import statistics
import tempfile
from pathlib import Path

import aiohttp

from benchmarks.votes import Run, run_bot
from tests.fakediscord import running_fake
from tests.processes import bot_environment


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape_every_second(port: int, scrapes: list[int]) -> None:
    """GET /metrics and /readyz once a second, as Prometheus and a load balancer would, counting the answers."""
    async with aiohttp.ClientSession() as session:
        while True:
            for path in ("/metrics", "/readyz"):
                try:
                    async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                        await response.read()
                        scrapes.append(response.status)
                except aiohttp.ClientError:
                    pass  # not listening yet
            await asyncio.sleep(1.0)


async def measure(args: argparse.Namespace, listener: bool, scratch: Path) -> tuple[Run, int]:
    """Run the vote workload once; return the run and how many scrapes were answered 200."""
    gc.collect()
    scratch.mkdir(parents=True)
    async with running_fake() as fake:
        guild = fake.add_guild("Benchmark guild")
        admin = guild.add_member("admin", permissions=1 << 5)
        members = [guild.add_member(f"member{i}") for i in range(args.members)]
        channel = guild.add_text_channel("polls")
        port = free_port()
        extra = {"HEALTH_PORT": str(port)} if listener else {}
        env = bot_environment(fake, scratch / "votes.sqlite3", DATABASE_SYNCHRONOUS="FULL", **extra)
        scrapes: list[int] = []
        scraper = asyncio.create_task(scrape_every_second(port, scrapes)) if listener else None
        try:
            run = await run_bot(fake, admin, channel, members, args, env)
        finally:
            if scraper is not None:
                scraper.cancel()
        return run, scrapes.count(200)


async def main_async(args: argparse.Namespace) -> None:
    """Alternate off and on runs; print the medians of votes/s and of the bot's CPU per vote, and their ratios."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu_ms: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(args.repeat):
            for listener in (False, True) if attempt % 2 == 0 else (True, False):
                run, answered = await measure(args, listener, Path(scratch) / f"{attempt}-{listener}")
                if run.stored < run.acknowledged:
                    raise SystemExit(f"{run.acknowledged} votes acknowledged but {run.stored} stored")
                rates[listener].append(run.rate)
                assert run.cpu_seconds is not None  # noqa: S101 - run_bot measures it
                cpu_ms[listener].append(1000 * run.cpu_seconds / run.votes)
                label = "on, scraped" if listener else "off"
                scraped = f"  ({answered} scrapes answered)" if listener else ""
                p99 = run.percentile(99)
                print(
                    f"run {attempt + 1} listener {label:<11} {run.rate:7.0f} votes/s  p99 {p99:6.1f} ms  "
                    f"bot CPU {cpu_ms[listener][-1]:.3f} ms/vote  late {run.votes - run.acknowledged}{scraped}"
                )
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"median votes/s: off {off:.0f}, on and scraped every second {on:.0f}: {100 * (1 - on / off):+.1f}% cost")
    cpu_off, cpu_on = statistics.median(cpu_ms[False]), statistics.median(cpu_ms[True])
    print(
        f"median bot CPU per vote: off {cpu_off:.3f} ms, on and scraped {cpu_on:.3f} ms: "
        f"{100 * (cpu_on / cpu_off - 1):+.1f}% (the steadier figure: throughput swings with the shared machine)"
    )
    print("target: under 5% cost with the listener on")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=3000)
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each setting, alternating; medians reported")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
