"""Benchmark: our bot's CPU per interaction, idle memory and start-up time as ratios to plain discord.py bots.

    python -m benchmarks.ratios [--repeat 3] [--interactions 2000] [--in-flight 20] [--profile]

Each contender is its own process (benchmarks/contenders.py) connected to its own fake Discord in this process,
with the same world (one guild, 200 members, one channel); the fakes and the load generator run here, so none of
their CPU is counted. The contenders measure themselves and report on request: process CPU from
getrusage(RUSAGE_SELF) (every thread, so aiosqlite's worker thread too) and RSS from /proc/self/status.

A round: the bare client starts alone, is weighed and stops; then ours starts alone and is weighed; then the
minimal bot starts beside it and the two take turns, 200 interactions each (ABBA order), through each CPU phase,
so a busy moment on the shared machine hits both alike. A phase's window opens after a warm-up of --warmup
interactions each and closes a settle time after the last turn, so work done after answering is counted; a
contender waiting for its turn is idle (heartbeats only).

- CPU per /concept lookup (ours, every concept id in turn) vs CPU per /ping (the minimal bot's "pong"): process
  CPU over --interactions invocations, divided by their number.
- CPU per vote, ours vs the minimal bot's (one INSERT + commit, then "Recorded."), clicking bucket buttons; the
  window closes --vote-settle s after the last vote, so the throttled poll-message edits the votes caused count.
- Idle RSS: ours vs a bare `discord.Client` (default intents, no extensions), 3 s after the fake sent READY
  (past discord.py's 2 s guild_ready_timeout, so on_ready and our start-up work have run).
- Start to READY: from just before the process is spawned to the moment the fake has sent READY and the guilds
  (our bot identifies only after setup_hook: extensions loaded, commands synced). For ours this includes the
  interpreter, every import, settings, content loading and validation, the database lock, opening and migrating
  a new database file, and the command sync (a new database always syncs): all of our real start-up.

Three breakdown rows have no target of their own. "vs the same card+button" pits our /concept against the minimal
bot's /card in a phase of their own: /card answers with the very embed our /concept sends (built beforehand by our
domain code, in this process) and a Share button, so what is left is our bot's own overhead, the rest being what
answering with a card costs discord.py. "at main (after imports)" is the RSS when main begins, and "main ->
READY" the start-up without the interpreter and the imports of discord.py and the bot's entry modules (timed from
main beginning in the child; time.monotonic is system-wide, so the two clocks agree).

Each figure is the median of --repeat rounds, and "each round" shows the spread of the rounds' ratios. Caveats:
CPU accounting has tick granularity (a few ms per window, far below the windows' totals); the contenders share 2
CPUs with the fakes and whatever else runs, which inflates everyone's CPU somewhat (cache misses, migrations), so
a busy machine spreads the rounds more; latencies are not meaningful here. Bytecode is compiled first, as a
deployed image has it. --profile runs one more round with cProfile in both bots (in thread CPU time, event-loop
thread only: SQLite's work in aiosqlite's thread is not in it) and prints, per phase, the CPU by area (our code,
discord.py, aiohttp...), the functions whose own CPU most exceeds the minimal bot's, and our heaviest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks._harness import (
    Caller,
    Contender,
    Sample,
    World,
    command_caller,
    new_world,
    open_poll,
    run_concurrently,
    shifted,
    vote_caller,
)
from benchmarks._profiles import print_comparison
from bot.domain.content import concept_card
from bot.domain.content_loader import load_content
from bot.render import card_embed
from tests.processes import ROOT, bot_environment

READY_SETTLE = 3.0  # s after READY before reading idle RSS
LOOKUP_SETTLE = 0.3  # s after the last answer before a lookup window closes
BLOCK = 200  # interactions each contender takes in turn
MAIN = ("_cpu", "_ready", "rss")  # endings of the figures printed per round


@dataclass
class Phase:
    """CPU spent by a contender over a window of interactions."""

    interactions: int
    cpu: float  # process CPU seconds in the window
    loop_cpu: float  # of which on the event-loop thread
    gc_cpu: float  # of which in the garbage collector
    gc_full: int  # full collections in the window


async def interleaved(
    args: argparse.Namespace, lanes: list[tuple[Contender, Caller]], settle: float, profiles: list[Path] | None
) -> list[Phase]:
    """Warm each contender up, then give them --interactions each in turns of BLOCK; return each one's CPU.

    Taking turns exposes both to the same moments of a shared machine. Each window spans the whole phase, from
    before the first turn to `settle` s after the last, so work a contender does after answering (our poll
    edits) is counted; a contender waiting for its turn is idle and costs next to nothing.
    """
    for _, one in lanes:
        await run_concurrently(args.warmup, args.in_flight, one)
    await asyncio.sleep(settle)
    for contender, _ in lanes if profiles else ():
        await contender.ask("profile-start")
    before = [await contender.sample() for contender, _ in lanes]
    order = list(lanes)
    for start in range(0, args.interactions, BLOCK):
        size = min(BLOCK, args.interactions - start)
        for _, one in order:
            await run_concurrently(size, args.in_flight, shifted(one, args.warmup + start))
        order.reverse()  # ABBA: neither always goes first
    await asyncio.sleep(settle)
    after = [await contender.sample() for contender, _ in lanes]
    for (contender, _), path in zip(lanes, profiles or [], strict=False):
        await contender.ask(f"profile-stop {path}")
    return [
        Phase(
            args.interactions,
            end.cpu - begin.cpu,
            end.loop_cpu - begin.loop_cpu,
            end.gc_cpu - begin.gc_cpu,
            end.gc_full - begin.gc_full,
        )
        for begin, end in zip(before, after, strict=True)
    ]


async def idle_sample(world: World, contender: Contender) -> Sample:
    """Return a sample taken once the contender has settled after READY."""
    await asyncio.sleep(READY_SETTLE)
    await world.fake.sync(timeout=30)
    return await contender.sample()


def start_figures(contender: Contender, idle: Sample) -> dict[str, float]:
    """Return the start-up and memory figures of a contender."""
    return {
        "spawn_to_ready": contender.ready_at - contender.spawned,
        "main_to_ready": contender.ready_at - contender.main_at,
        "rss": idle.rss_mib,
        "main_rss": contender.main_rss_mib,
    }


async def run_bare(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    """Start the bare client alone; return its start-up and memory figures."""
    async with new_world(args.members) as world:
        env = bot_environment(world.fake, scratch / "unused.sqlite3")
        contender = await Contender.start(world.fake, "bare", env, scratch / "bare.log")
        try:
            return start_figures(contender, await idle_sample(world, contender))
        finally:
            await contender.stop()


def concept_ids() -> list[str]:
    """Return the id of every concept in the content folder."""
    return [path.stem for path in sorted((ROOT / "content" / "concepts").glob("*.yaml"))]


def write_concept_cards(path: Path) -> None:
    """Write the embed of every concept, exactly as our /concept sends it, for the minimal bot's /card."""
    store = load_content(ROOT / "content")
    cards = {
        concept_id: card_embed(concept_card(store.concepts[concept_id], store)).to_dict()
        for concept_id in store.concepts
    }
    path.write_text(json.dumps(cards))


async def run_round(
    args: argparse.Namespace, scratch: Path, profile: Path | None = None
) -> dict[str, dict[str, float]]:
    """Measure the bare client alone, then ours and the minimal bot side by side; return each one's figures.

    With `profile` (a folder), the CPU windows are profiled too, into ours.PHASE and minimal.PHASE files there.
    """
    bare = await run_bare(args, scratch)
    write_concept_cards(scratch / "cards.json")
    async with new_world(args.members) as ours_world, new_world(args.members) as minimal_world:
        ours_env = bot_environment(ours_world.fake, scratch / "ours.sqlite3", DATABASE_SYNCHRONOUS=args.synchronous)
        minimal_env = bot_environment(
            minimal_world.fake,
            scratch / "minimal.sqlite3",
            DATABASE_SYNCHRONOUS=args.synchronous,
            POLL_CHANNEL_ID=str(minimal_world.channel.id),
            CARDS_PATH=str(scratch / "cards.json"),
        )
        # Ours starts, settles and is weighed while nothing else runs, as the bare client was.
        ours = await Contender.start(ours_world.fake, "ours", ours_env, scratch / "ours.log")
        contenders = [ours]
        try:
            started = start_figures(ours, await idle_sample(ours_world, ours))
            minimal = await Contender.start(minimal_world.fake, "minimal", minimal_env, scratch / "minimal.log")
            contenders.append(minimal)
            minimal_poll = await minimal_world.fake.wait_for_message(
                minimal_world.channel, lambda m: "(minimal)" in m.text, timeout=30
            )

            def files(phase: str) -> list[Path] | None:
                return None if profile is None else [profile / f"minimal.{phase}", profile / f"ours.{phase}"]

            ids = [{"name": concept_id} for concept_id in concept_ids()]
            concept = command_caller(ours_world, "concept", ids, lambda m: bool(m.embeds))
            ping, concept_vs_ping = await interleaved(
                args,
                [
                    (minimal, command_caller(minimal_world, "ping", [{}], lambda m: m.content == "pong")),
                    (ours, concept),
                ],
                LOOKUP_SETTLE,
                files("ping"),
            )
            card, concept_vs_card = await interleaved(
                args,
                [(minimal, command_caller(minimal_world, "card", ids, lambda m: bool(m.embeds))), (ours, concept)],
                LOOKUP_SETTLE,
                files("card"),
            )
            ours_poll = await open_poll(ours_world)
            minimal_vote, ours_vote = await interleaved(
                args,
                [(minimal, vote_caller(minimal_world, minimal_poll)), (ours, vote_caller(ours_world, ours_poll))],
                args.vote_settle,
                files("vote"),
            )
        finally:
            for contender in contenders:
                await contender.stop()
    return {
        "bare": bare,
        "minimal": phase_figures("ping", ping) | phase_figures("card", card) | phase_figures("vote", minimal_vote),
        "ours": started
        | phase_figures("concept", concept_vs_ping)
        | phase_figures("concept_vs_card", concept_vs_card)
        | phase_figures("vote", ours_vote),
    }


def phase_figures(name: str, phase: Phase) -> dict[str, float]:
    """Return a phase's figures: CPU ms per interaction, the event loop's share, GC ms per interaction, full GCs."""
    return {
        f"{name}_cpu": phase.cpu / phase.interactions * 1000,
        f"{name}_loop_share": phase.loop_cpu / phase.cpu,
        f"{name}_gc": phase.gc_cpu / phase.interactions * 1000,
        f"{name}_full_gcs": phase.gc_full,
    }


@dataclass
class Ratio:
    """One comparison against its target: medians of each contender's runs, and the ratio of each round's pair."""

    name: str
    unit: str
    ours: list[float]
    baseline: list[float]
    baseline_name: str
    target: float | None  # None: a breakdown of the row above, with no target of its own

    def line(self) -> str:
        """Return the table row."""
        ours, baseline = statistics.median(self.ours), statistics.median(self.baseline)
        ratio = ours / baseline
        rounds = [mine / theirs for mine, theirs in zip(self.ours, self.baseline, strict=True)]
        if self.target is None:
            judged = "(breakdown)"
        else:
            judged = f"<= {self.target:.1f}x  {'PASS' if ratio <= self.target else 'MISS'}"
        return (
            f"{self.name:26s} {ours:9.3f} {self.unit:4s} {baseline:9.3f} {self.unit:4s} {self.baseline_name:14s} "
            f"{ratio:5.2f}x  {min(rounds):5.2f}-{max(rounds):.2f}x  {judged}"
        )


def report(args: argparse.Namespace, runs: dict[str, list[dict[str, float]]]) -> None:
    """Print the medians, the ratios and the verdicts."""

    def ratio(name: str, unit: str, key: str, baseline: str, baseline_key: str, target: float | None) -> Ratio:
        label = {
            "bare": "bare client",
            "minimal": {"ping_cpu": "minimal /ping", "card_cpu": "minimal /card"}.get(baseline_key, "minimal vote"),
        }
        return Ratio(
            name,
            unit,
            [run[key] for run in runs["ours"]],
            [run[baseline_key] for run in runs[baseline]],
            label[baseline],
            target,
        )

    rows = [
        ratio("CPU per /concept", "ms", "concept_cpu", "minimal", "ping_cpu", 1.3),
        ratio("  vs the same card+button", "ms", "concept_vs_card_cpu", "minimal", "card_cpu", None),
        ratio("CPU per vote", "ms", "vote_cpu", "minimal", "vote_cpu", 1.6),
        ratio("idle RSS after READY", "MiB", "rss", "bare", "rss", 1.4),
        ratio("  at main (after imports)", "MiB", "main_rss", "bare", "main_rss", None),
        ratio("start (spawn) -> READY", "s", "spawn_to_ready", "bare", "spawn_to_ready", 1.6),
        ratio("  of which main -> READY", "s", "main_to_ready", "bare", "main_to_ready", None),
    ]
    print()
    print(
        f"medians of {args.repeat} rounds; CPU over {args.interactions} interactions per contender and phase "
        f"(after {args.warmup} warm-up), {args.in_flight} in flight, {args.members} members; "
        f"synchronous={args.synchronous}"
    )
    print(f"{'figure':26s} {'ours':>14s} {'baseline':>14s} {'':14s} {'ratio':>6s}  {'each round':>11s}  target  result")
    for row in rows:
        print(row.line())

    def median(which: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[which])

    print(
        "share of the CPU on the event-loop thread (the rest is mostly aiosqlite's thread): "
        f"/concept {median('ours', 'concept_loop_share'):.0%}, /ping {median('minimal', 'ping_loop_share'):.0%}, "
        f"our vote {median('ours', 'vote_loop_share'):.0%}, minimal vote {median('minimal', 'vote_loop_share'):.0%}"
    )
    gcs = [(f"/{name}", which, name) for name, which in (("concept", "ours"), ("ping", "minimal"), ("card", "minimal"))]
    gcs += [("our vote", "ours", "vote"), ("minimal vote", "minimal", "vote")]
    shown = ", ".join(
        f"{label} {median(which, f'{name}_gc'):.3f} ms ({median(which, f'{name}_full_gcs'):.0f} full)"
        for label, which, name in gcs
    )
    print(f"of which the garbage collector, per interaction (full collections per phase): {shown}")


async def main_async(args: argparse.Namespace) -> None:
    """Run --repeat rounds, then print the comparison (and, with --profile, one profiled round)."""
    # Compile the bot's modules once, as a deployed image does, so no run pays for it (discord.py's were compiled
    # when it was installed).
    compileall.compile_dir(ROOT / "bot", quiet=1)
    compileall.compile_dir(ROOT / "benchmarks", quiet=1)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "minimal": [], "ours": []}
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.repeat):
            folder = Path(scratch) / f"round{index}"
            folder.mkdir()
            for which, figures in (await run_round(args, folder)).items():
                runs[which].append(figures)
                # The main figures only; the GC and thread shares are summarised in the report.
                shown = ", ".join(f"{key} {value:.3f}" for key, value in figures.items() if key.endswith(MAIN))
                print(f"  round {index + 1} {which}: {shown}", flush=True)
        if args.repeat:
            report(args, runs)
        if args.profile:
            folder = Path(scratch) / "profile"
            folder.mkdir()
            await run_round(args, folder, profile=folder)
            count = args.interactions
            for phase, title in (
                ("card", f"/concept vs the minimal bot's same card+button (/card) x {count}"),
                ("ping", f"/concept vs /ping x {count}"),
                ("vote", f"vote x {count}"),
            ):
                print_comparison(folder / f"ours.{phase}", folder / f"minimal.{phase}", title, count)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians shown (0: --profile only)")
    parser.add_argument("--interactions", type=int, default=2000, help="measured interactions per CPU figure")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured interactions before each CPU window")
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--vote-settle", type=float, default=2.5, help="s after the last vote the window stays open")
    parser.add_argument(
        "--synchronous", choices=("FULL", "NORMAL"), default="FULL", help="SQLite durability for both bots"
    )
    parser.add_argument("--profile", action="store_true", help="profile one more round; print where ours spends more")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
