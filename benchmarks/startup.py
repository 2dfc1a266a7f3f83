"""Benchmark: process start to READY, and RSS after READY, for the bot and a bare discord.py client.

    python -m benchmarks.startup [--rounds N]

Both run as subprocesses against the same in-process fake Discord in the same run (absolute times drift on
shared machines, so the ratio is what matters). Targets (issue 2): at most 2x the bare client's time and
1.6x its RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._harness import rss_mib, wait_for_new_session
from tests.fakediscord import FakeDiscord, running_fake
from tests.processes import ROOT, bot_environment


async def measure(fake: FakeDiscord, argv: list[str], env: dict[str, str], settle: float) -> tuple[float, float]:
    """Start a process, return (seconds from spawn to READY sent, RSS in MiB `settle` s after READY)."""
    known = set(fake.gateway.sessions)
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await wait_for_new_session(fake, known)
        elapsed = time.perf_counter() - start
        await asyncio.sleep(settle)
        rss = rss_mib(process.pid)
    finally:
        process.terminate()
        await process.wait()
    return elapsed, rss


async def run(rounds: int) -> None:
    """Alternate bare client and bot runs and print the medians and ratios."""
    # Compile the bot's modules once, as a deployed image does (see the Dockerfile), so no run pays for it;
    # discord.py's own modules were compiled when it was installed, for both contenders alike.
    compileall.compile_dir(ROOT / "bot", quiet=1)
    async with running_fake() as fake:
        guild = fake.add_guild("Benchmark guild")
        guild.add_text_channel("general")
        for i in range(20):
            guild.add_member(f"member{i}")
        with tempfile.TemporaryDirectory() as scratch:
            base_env = bot_environment(fake, Path(scratch) / "placeholder.sqlite3")
            results: dict[str, list[tuple[float, float]]] = {"bare": [], "bot (new database)": [], "bot (restart)": []}
            for index in range(rounds):
                settle = 2.5  # past discord.py's default guild_ready_timeout, so on_ready has run in both
                bare = [sys.executable, "-m", "benchmarks.contenders", "bare"]
                results["bare"].append(await measure(fake, bare, base_env, settle))
                env = {**base_env, "DATABASE_PATH": str(Path(scratch) / f"bot{index}.sqlite3")}
                # First start on a new file (migrations, command sync), then a restart on it (neither).
                results["bot (new database)"].append(await measure(fake, [sys.executable, "-m", "bot"], env, settle))
                results["bot (restart)"].append(await measure(fake, [sys.executable, "-m", "bot"], env, settle))
    bare_time = statistics.median(t for t, _ in results["bare"])
    bare_rss = statistics.median(r for _, r in results["bare"])
    print(f"rounds: {rounds} (medians; each process started fresh)")
    for name, samples in results.items():
        elapsed = statistics.median(t for t, _ in samples)
        rss = statistics.median(r for _, r in samples)
        print(
            f"{name:20s} start->READY {elapsed:.3f} s ({elapsed / bare_time:.2f}x bare)   "
            f"RSS after READY {rss:.1f} MiB ({rss / bare_rss:.2f}x bare)"
        )
    print("targets: at most 2x the bare client's time and 1.6x its RSS")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
