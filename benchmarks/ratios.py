"""Benchmark: our bot's CPU per interaction, idle memory and start-up time as ratios to plain discord.py bots.

    python -m benchmarks.ratios [--repeat 3] [--interactions 2000] [--in-flight 20] [--profile]

Each contender is its own process (benchmarks/contenders.py) connected to a fresh fake Discord in this process,
with the same world (one guild, 200 members, one channel); the fake and the load generator run here, so none of
their CPU is counted. The contenders measure themselves and report on request: process CPU from
getrusage(RUSAGE_SELF) (every thread, so aiosqlite's worker thread too) and RSS from /proc/self/status.

- CPU per /concept lookup (ours) vs CPU per /ping (the minimal bot): after a warm-up of --warmup interactions, the
  process CPU spent over --interactions invocations divided by their number. /concept uses every concept id in turn.
- CPU per vote, ours vs the minimal bot's (one INSERT + commit, then "Recorded."): the same, clicking bucket
  buttons. Each CPU window ends --vote-settle s after the last answer, so our throttled poll-message edits that
  the votes caused are counted; the minimal bot gets the same window (its idle CPU in it is close to nothing).
- Idle RSS: ours vs a bare `discord.Client` (default intents, no extensions), 3 s after the fake sent READY
  (past discord.py's 2 s guild_ready_timeout, so on_ready and our start-up work have run).
- Start to READY: from just before the process is spawned to the moment the fake has sent READY and the guilds
  (our bot identifies only after setup_hook: extensions loaded, commands synced). For ours this includes the
  interpreter, every import, settings, content loading and validation, the database lock, opening and migrating
  a new database file, and the command sync (a new database always syncs) - all of our real start-up. The line
  "main -> READY" leaves out the interpreter start and the imports of discord.py and the bot's entry modules
  (timed from `main` beginning in the child; time.monotonic is system-wide, so the two clocks agree).

Every figure is the median over --repeat runs of each contender, the contenders alternating within a round so
drift on a shared machine hits all alike. Caveats: CPU accounting has tick granularity (a few ms per window, far
below the windows' totals); the contenders share 2 CPUs with the fake, so latencies are not meaningful here and
only CPU and memory ratios are. Bytecode is compiled first, as a deployed image has it. --profile runs our bot
once more under cProfile (event-loop thread only: SQLite's work in aiosqlite's thread is not in it) and prints
where the lookups and the votes spend their time.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import random
import statistics
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks._harness import Contender, Sample, cast_votes, run_concurrently, subcommand
from benchmarks._profiles import print_comparison
from tests.fakediscord import Channel, FakeDiscord, Member, Message, Permissions, running_fake
from tests.processes import ROOT, bot_environment

READY_SETTLE = 3.0  # s after READY before reading idle RSS
LOOKUP_SETTLE = 0.3  # s after the last answer before closing a lookup window
CHANNEL_MESSAGE_WITH_SOURCE = 4  # the interaction callback type of an answer sent with the response


@dataclass
class World:
    """One fake Discord with the benchmark's guild."""

    fake: FakeDiscord
    admin: Member
    members: list[Member]
    channel: Channel


@dataclass
class Phase:
    """CPU spent by a contender over a window of interactions."""

    interactions: int
    cpu: float  # process CPU seconds in the window
    loop_cpu: float  # of which on the event-loop thread

    @property
    def per_interaction_ms(self) -> float:
        """Return CPU milliseconds per interaction."""
        return self.cpu / self.interactions * 1000


@asynccontextmanager
async def new_world(members: int) -> AsyncIterator[World]:
    """Start a fresh fake Discord holding the benchmark guild: an admin, `members` members and #general."""
    async with running_fake() as fake:
        guild = fake.add_guild("Benchmark guild")
        admin = guild.add_member("admin", permissions=Permissions.MANAGE_GUILD)
        people = [guild.add_member(f"member{i}") for i in range(members)]
        yield World(fake, admin, people, guild.add_text_channel("general"))


async def measure_window(
    contender: Contender, interactions: int, settle: float, work: Callable[[], Awaitable[object]]
) -> Phase:
    """Return the contender's CPU over `work()` and the `settle` s after it, per interaction."""
    await asyncio.sleep(settle)  # whatever came before has finished
    before = await contender.sample()
    await work()
    await asyncio.sleep(settle)
    after = await contender.sample()
    return Phase(interactions, after.cpu - before.cpu, after.loop_cpu - before.loop_cpu)


async def command_phase(
    world: World, contender: Contender, args: argparse.Namespace, command: str, options: list[dict[str, str]]
) -> Phase:
    """Warm up, then measure `--interactions` invocations of `command`, cycling through `options`."""

    async def one(index: int) -> None:
        member = world.members[index % len(world.members)]
        handle = await world.fake.invoke(member, command, options[index % len(options)], channel=world.channel)
        callback = await handle.response(timeout=30)
        if callback.type != CHANNEL_MESSAGE_WITH_SOURCE:  # a private answer, as both commands give
            raise RuntimeError(f"/{command} answered with callback type {callback.type}")

    await run_concurrently(args.warmup, args.in_flight, one)
    return await measure_window(
        contender,
        args.interactions,
        LOOKUP_SETTLE,
        lambda: run_concurrently(args.interactions, args.in_flight, lambda i: one(args.warmup + i)),
    )


async def vote_phase(world: World, contender: Contender, args: argparse.Namespace, poll: Message) -> Phase:
    """Warm up, then measure `--interactions` votes on `poll` (bucket buttons chosen at random)."""
    rng = random.Random(1)
    await cast_votes(world.fake, poll, world.members, args.warmup, args.in_flight, rng)

    async def votes() -> None:
        _, _, acknowledged = await cast_votes(world.fake, poll, world.members, args.interactions, args.in_flight, rng)
        if acknowledged != args.interactions:
            raise RuntimeError(f"{args.interactions - acknowledged} votes were not acknowledged")

    return await measure_window(contender, args.interactions, args.vote_settle, votes)


def start_figures(contender: Contender, idle: Sample) -> dict[str, float]:
    """Return the start-up and memory figures of a contender."""
    return {
        "spawn_to_ready": contender.ready_at - contender.spawned,
        "main_to_ready": contender.ready_at - contender.main_at,
        "rss": idle.rss_mib,
        "main_rss": contender.main_rss_mib,
    }


async def idle_sample(world: World, contender: Contender) -> Sample:
    """Return a sample taken once the contender has settled after READY."""
    await asyncio.sleep(READY_SETTLE)
    await world.fake.sync(timeout=30)
    return await contender.sample()


async def run_bare(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    """Start the bare client; return its start-up and memory figures."""
    async with new_world(args.members) as world:
        env = bot_environment(world.fake, scratch / "unused.sqlite3")
        contender = await Contender.start(world.fake, "bare", env, scratch / "bare.log")
        try:
            return start_figures(contender, await idle_sample(world, contender))
        finally:
            await contender.stop()


async def profiled(contender: Contender, profile: Path | None, work: Awaitable[Phase]) -> Phase:
    """Await `work`, under cProfile in the contender when `profile` names a file for the stats."""
    if profile is None:
        return await work
    await contender.ask("profile-start")
    phase = await work
    await contender.ask(f"profile-stop {profile}")
    return phase


async def run_minimal(args: argparse.Namespace, scratch: Path, profile: Path | None = None) -> dict[str, float]:
    """Start the minimal bot; return its CPU per /ping and per vote (with `profile`, profile both as PROFILE.*)."""
    async with new_world(args.members) as world:
        env = bot_environment(
            world.fake,
            scratch / "minimal.sqlite3",
            DATABASE_SYNCHRONOUS=args.synchronous,
            POLL_CHANNEL_ID=str(world.channel.id),
        )
        contender = await Contender.start(world.fake, "minimal", env, scratch / "minimal.log")
        try:
            poll = await world.fake.wait_for_message(world.channel, lambda m: "(minimal)" in m.text, timeout=30)
            ping = await profiled(
                contender,
                profile and profile.with_suffix(".lookup"),
                command_phase(world, contender, args, "ping", [{}]),
            )
            vote = await profiled(
                contender, profile and profile.with_suffix(".vote"), vote_phase(world, contender, args, poll)
            )
        finally:
            await contender.stop()
    return {"ping_cpu": ping.per_interaction_ms, "vote_cpu": vote.per_interaction_ms}


async def open_poll(world: World) -> Message:
    """Open a P(doom) round as the admin and return the poll message."""
    command = subcommand(world.fake, "pdoom", "open")
    await (await world.fake.invoke(world.admin, command, channel=world.channel)).reply(timeout=30)
    return await world.fake.wait_for_message(
        world.channel, lambda m: "P(doom) round" in m.text and bool(m.components), timeout=30
    )


async def run_ours(args: argparse.Namespace, scratch: Path, profile: Path | None = None) -> dict[str, float]:
    """Start our bot on a new database; return its start-up, memory and CPU figures (`profile`: as for minimal)."""
    async with new_world(args.members) as world:
        env = bot_environment(world.fake, scratch / "ours.sqlite3", DATABASE_SYNCHRONOUS=args.synchronous)
        contender = await Contender.start(world.fake, "ours", env, scratch / "ours.log")
        try:
            figures = start_figures(contender, await idle_sample(world, contender))
            concepts = [{"name": path.stem} for path in sorted((ROOT / "content" / "concepts").glob("*.yaml"))]
            concept = await profiled(
                contender,
                profile and profile.with_suffix(".lookup"),
                command_phase(world, contender, args, "concept", concepts),
            )
            poll = await open_poll(world)
            vote = await profiled(
                contender, profile and profile.with_suffix(".vote"), vote_phase(world, contender, args, poll)
            )
        finally:
            await contender.stop()
    return figures | {
        "concept_cpu": concept.per_interaction_ms,
        "concept_loop_share": concept.loop_cpu / concept.cpu,
        "vote_cpu": vote.per_interaction_ms,
        "vote_loop_share": vote.loop_cpu / vote.cpu,
    }


@dataclass
class Ratio:
    """One comparison against its target."""

    name: str
    ours: float
    baseline: float
    baseline_name: str
    unit: str
    target: float

    def line(self) -> str:
        """Return the table row."""
        ratio = self.ours / self.baseline
        verdict = "PASS" if ratio <= self.target else "MISS"
        return (
            f"{self.name:28s} {self.ours:9.3f} {self.unit:4s} {self.baseline:9.3f} {self.unit:4s} "
            f"{self.baseline_name:16s} {ratio:6.2f}x  <= {self.target:.1f}x  {verdict}"
        )


def report(args: argparse.Namespace, runs: dict[str, list[dict[str, float]]]) -> None:
    """Print the medians, the ratios and the verdicts."""

    def median(which: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[which])

    rows = [
        Ratio(
            "CPU per /concept", median("ours", "concept_cpu"), median("minimal", "ping_cpu"), "minimal /ping", "ms", 1.3
        ),
        Ratio("CPU per vote", median("ours", "vote_cpu"), median("minimal", "vote_cpu"), "minimal vote", "ms", 1.6),
        Ratio("idle RSS after READY", median("ours", "rss"), median("bare", "rss"), "bare client", "MiB", 1.4),
    ]
    rows.append(
        Ratio("  RSS after imports", median("ours", "main_rss"), median("bare", "main_rss"), "bare client", "MiB", 1.4)
    )
    for key, name in (("spawn_to_ready", "start (spawn) -> READY"), ("main_to_ready", "  of which main -> READY")):
        rows.append(Ratio(name, median("ours", key), median("bare", key), "bare client", "s", 1.6))
    print()
    print(
        f"medians of {args.repeat} runs per contender; CPU over {args.interactions} interactions per run "
        f"(after {args.warmup} warm-up), {args.in_flight} in flight, {args.members} members; "
        f"synchronous={args.synchronous}"
    )
    print(f"{'figure':28s} {'ours':>14s} {'baseline':>14s} {'':16s} {'ratio':>7s}  target   result")
    for row in rows:
        print(row.line())
    print(
        f"share of our CPU on the event-loop thread (the rest is mostly aiosqlite's thread): "
        f"/concept {median('ours', 'concept_loop_share'):.0%}, vote {median('ours', 'vote_loop_share'):.0%}"
    )


async def main_async(args: argparse.Namespace) -> None:
    """Run every contender --repeat times, alternating, then print the comparison."""
    # Compile the bot's modules once, as a deployed image does, so no run pays for it (discord.py's were compiled
    # when it was installed).
    compileall.compile_dir(ROOT / "bot", quiet=1)
    compileall.compile_dir(ROOT / "benchmarks", quiet=1)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "minimal": [], "ours": []}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.repeat):
            for which, run in (("bare", run_bare), ("minimal", run_minimal), ("ours", run_ours)):
                folder = Path(scratch) / f"{which}{index}"
                folder.mkdir()
                figures = await run(args, folder)
                runs[which].append(figures)
                shown = ", ".join(f"{key} {value:.3f}" for key, value in figures.items())
                print(f"  run {index + 1} {which}: {shown}", flush=True)
        if args.repeat:
            report(args, runs)
        if args.profile:
            folder = Path(scratch) / "profile"
            folder.mkdir()
            await run_minimal(args, folder, profile=folder / "minimal.prof")
            await run_ours(args, folder, profile=folder / "ours.prof")
            count = args.warmup + args.interactions
            for phase, title in (("lookup", f"/concept vs /ping x {count}"), ("vote", f"vote x {count}")):
                print_comparison(folder / f"ours.{phase}", folder / f"minimal.{phase}", title, count)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each contender, alternating; medians shown (0: --profile only)"
    )
    parser.add_argument("--interactions", type=int, default=2000, help="measured interactions per CPU figure")
    parser.add_argument("--warmup", type=int, default=100, help="interactions before each CPU window opens")
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--vote-settle", type=float, default=2.5, help="s after the last vote the window stays open")
    parser.add_argument(
        "--synchronous", choices=("FULL", "NORMAL"), default="FULL", help="SQLite durability for both bots"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one more run of our bot and the minimal bot; print the gap"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
