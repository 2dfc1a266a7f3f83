"""The bots the benchmarks compare, each run as its own process against the fake Discord in the parent.

    python -m benchmarks.contenders bare|minimal|ours [--probe]

- bare: a `discord.Client` with default intents and nothing else (the floor for start-up time and memory);
- minimal: a small discord.py bot with a `/ping` command answering "pong" privately, a `/card name:` command
  answering privately with a ready-made embed (read from the JSON file CARDS_PATH, if set) and a Share button, and
  eight P(doom) vote buttons that each do one INSERT + commit before replying (posted to POLL_CHANNEL_ID once
  ready, if set);
- ours: the real bot, started through `bot.__main__.main()` exactly as `python -m bot` starts it (settings,
  content loading and validation, database lock, open and migrations, extensions, command sync).

All three read DISCORD_TOKEN, DISCORD_API_BASE and DISCORD_GATEWAY_URL (and the minimal bot DATABASE_PATH and
DATABASE_SYNCHRONOUS) from the environment, as `tests.processes.bot_environment` sets them.

With --probe the process answers questions about itself, so what the bot costs is measured inside the process
that runs only the bot: a line on stdin gets one JSON line back on the original stdout (the bot's own stdout,
where our bot logs, is pointed at stderr). A daemon thread serves the probe, so the bot's event loop does no
extra work for it. Requests:

    sample          -> {"cpu": process CPU s (getrusage, all threads), "loop_cpu": main thread CPU s,
                        "rss_kib": VmRSS, "gc_cpu": CPU s in the garbage collector, "gc_full": full
                        collections so far, "at": time.monotonic()}
    profile-start   -> a new cProfile, timed in thread CPU time, starts on the main (event loop) thread
    profile-stop P  -> it stops and writes its stats to file P; both answer {"ok": true}

The first line, written unasked, is {"main": time.monotonic(), "rss_kib": VmRSS}: the moment after the imports,
when the bot's main begins (time.monotonic is the system-wide CLOCK_MONOTONIC on Linux, so the parent can compare
it with its own).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import json
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import discord
import yarl
from discord import app_commands

if TYPE_CHECKING:
    import aiosqlite

VOTE_TEMPLATE = r"align:pdoom:b:(?P<round>\d+):(?P<bucket>\d+)"
BUCKETS = 8


def vm_rss_kib() -> int:
    """Return this process's resident set size in KiB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


class Probe:
    """Answers the parent's questions from a daemon thread; profiling is switched on the main thread by a signal."""

    def __init__(self) -> None:
        # Keep the real stdout for the probe's answers; the bot's prints and logs go to stderr from now on.
        self.out: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        self.main_thread = threading.main_thread().ident or 0
        self.profiler = cProfile.Profile()
        self.profile_path: str | None = None
        self.switched = threading.Event()
        # CPU spent in the garbage collector, and full collections: a bigger heap makes each full one dearer.
        self.gc_cpu, self.gc_full, self._gc_began = 0.0, 0, 0.0
        gc.callbacks.append(self._on_gc)
        # Handlers run on the main thread, which is the one running the event loop: cProfile follows that thread.
        signal.signal(signal.SIGUSR1, self._on_signal)

    def send(self, payload: dict[str, Any]) -> None:
        """Write one JSON line to the parent."""
        self.out.write(json.dumps(payload) + "\n")
        self.out.flush()

    def mark_main(self) -> None:
        """Tell the parent that the imports are done and the bot's main begins now."""
        self.send({"main": time.monotonic(), "rss_kib": vm_rss_kib()})

    def serve_in_background(self) -> None:
        """Start the thread that reads requests from stdin."""
        threading.Thread(target=self._serve, name="benchmark-probe", daemon=True).start()

    def _serve(self) -> None:
        for line in sys.stdin:
            request, _, argument = line.strip().partition(" ")
            if request == "sample":
                self.send(self.sample())
            elif request in ("profile-start", "profile-stop"):
                self.profile_path = argument if request == "profile-stop" else None
                self.switched.clear()
                signal.pthread_kill(self.main_thread, signal.SIGUSR1)
                self.send({"ok": self.switched.wait(30)})
            else:
                self.send({"error": f"unknown request {request!r}"})

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # Collections happen under the GIL, one at a time, so a start and its stop are on the same thread.
        if phase == "start":
            self._gc_began = time.thread_time()
        else:
            self.gc_cpu += time.thread_time() - self._gc_began
            self.gc_full += info["generation"] == 2

    def sample(self) -> dict[str, Any]:
        """Return this process's CPU so far, its main thread's CPU and its RSS."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        loop_cpu = time.clock_gettime(time.pthread_getcpuclockid(self.main_thread))
        return {
            "cpu": usage.ru_utime + usage.ru_stime,
            "loop_cpu": loop_cpu,
            "rss_kib": vm_rss_kib(),
            "gc_cpu": self.gc_cpu,
            "gc_full": self.gc_full,
            "at": time.monotonic(),
        }

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.profile_path is None:
            # A fresh profile per window, timed in this thread's CPU time: waiting for Discord costs nothing.
            self.profiler = cProfile.Profile(time.thread_time)
            self.profiler.enable()
        else:
            self.profiler.disable()
            self.profiler.dump_stats(self.profile_path)
        self.switched.set()


def point_discord_at_the_fake() -> None:
    """Point discord.py at the fake, as the test harness does (the bot does this itself from its settings)."""
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])


class Vote(discord.ui.DynamicItem[discord.ui.Button[Any]], template=VOTE_TEMPLATE):
    """A bucket button of the minimal bot's poll: one INSERT + commit, then a private "Recorded."."""

    def __init__(self, round_id: int, bucket: int) -> None:
        super().__init__(discord.ui.Button(label=str(bucket), custom_id=f"align:pdoom:b:{round_id}:{bucket}"))
        self.round_id, self.bucket = round_id, bucket

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> Vote:
        """Rebuild the button from its custom_id."""
        return cls(int(match["round"]), int(match["bucket"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Store the vote, then acknowledge it."""
        client = cast(MinimalBot, interaction.client)
        await client.db.execute(
            "INSERT INTO votes (round_id, user_id, bucket) VALUES (?, ?, ?)",
            (self.round_id, interaction.user.id, self.bucket),
        )
        await client.db.commit()
        await interaction.response.send_message("Recorded.", ephemeral=True)


class Share(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bench:share:(?P<key>[\w-]+)"):
    """The button under the minimal bot's /card answers, a persistent item like our Share button."""

    def __init__(self, key: str) -> None:
        super().__init__(discord.ui.Button(label="Share in channel", emoji="📣", custom_id=f"bench:share:{key}"))
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> Share:
        """Rebuild the button from its custom_id."""
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Not clicked by the benchmarks."""
        await interaction.response.send_message("Shared.", ephemeral=True)


class MinimalBot(discord.Client):
    """The minimal bot: `/ping`, `/card` (given CARDS_PATH) and the vote buttons, on one aiosqlite connection."""

    db: aiosqlite.Connection

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)
        # CARDS_PATH: a JSON object of embed dicts by name, for a /card answer shaped like our /concept's.
        cards: dict[str, dict[str, Any]] = (
            json.loads(Path(os.environ["CARDS_PATH"]).read_text()) if "CARDS_PATH" in os.environ else {}
        )

        @self.tree.command(name="ping", description="Check that the bot answers")
        async def ping(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @self.tree.command(name="card", description="Show a card with a Share button")
        async def card(interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100]) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(Share(name))
            embed = discord.Embed.from_dict(cards[name])
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def setup_hook(self) -> None:
        """Open the database, register the buttons and the command."""
        import aiosqlite  # here, so the bare client never loads it

        self.db = await aiosqlite.connect(os.environ["DATABASE_PATH"])
        await self.db.execute("PRAGMA journal_mode = WAL")
        await self.db.execute("PRAGMA synchronous = " + os.environ.get("DATABASE_SYNCHRONOUS", "FULL"))
        await self.db.execute("CREATE TABLE IF NOT EXISTS votes (round_id INT, user_id INT, bucket INT)")
        self.add_dynamic_items(Vote, Share)
        await self.tree.sync()

    async def on_ready(self) -> None:
        """Post the poll, if a channel was given."""
        if "POLL_CHANNEL_ID" not in os.environ:
            return
        view = discord.ui.View(timeout=None)
        for bucket in range(BUCKETS):
            view.add_item(Vote(1, bucket))
        channel = self.get_channel(int(os.environ["POLL_CHANNEL_ID"]))
        if isinstance(channel, discord.TextChannel):
            await channel.send("P(doom) round 1 (minimal)", view=view)

    async def close(self) -> None:
        """Close the database too."""
        if hasattr(self, "db"):
            await self.db.close()
        await super().close()


def main() -> int:
    """Run the chosen contender."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("bare", "minimal", "ours"))
    parser.add_argument("--probe", action="store_true", help="answer sample/profile requests on stdin")
    args = parser.parse_args()
    probe = Probe() if args.probe else None
    if args.kind == "ours":
        # Everything the entry point needs before it reaches the network, like discord.py for the others; the
        # feature extensions are imported by setup_hook, inside the measured start-up.
        from bot.__main__ import main as bot_main

        for module in ("bot.bot", "bot.domain.search"):  # what bot.__main__.run_bot imports when it begins
            importlib.import_module(module)
    if probe is not None:
        probe.mark_main()
        probe.serve_in_background()
    if args.kind == "ours":
        return bot_main([])
    client = discord.Client(intents=discord.Intents.default()) if args.kind == "bare" else MinimalBot()
    point_discord_at_the_fake()
    client.run(os.environ["DISCORD_TOKEN"], log_handler=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
