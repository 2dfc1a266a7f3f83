"""Running the real bot as its own process against the fake Discord (tests and benchmarks share this)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]


# Environment variables that configure the bot; none is inherited from the shell running the tests.
BOT_SETTINGS = (
    "DISCORD_",
    "DEV_GUILD",
    "DATABASE_",
    "CONTENT_",
    "LOG_",
    "SOURCE_URL",
    "SHARD_",
    "BACKUP_",
    "HEALTH_",
    "HEARTBEAT_",
)


def command_environment(**settings: str) -> dict[str, str]:
    """Return the environment for `python -m bot` run from any folder: only the given bot settings are set."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(BOT_SETTINGS)}
    return {**inherited, "PYTHONPATH": str(ROOT), **settings}


def run_command(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` to completion in `cwd` with only the given bot settings; capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=command_environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def bot_environment(fake: FakeDiscord, database: Path, **extra: str) -> dict[str, str]:
    """Return the environment a bot process needs to talk to `fake`, without any inherited bot settings."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(BOT_SETTINGS)}
    return {
        **inherited,
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_PATH": str(database),
        "CONTENT_DIR": str(ROOT / "content"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def start_process(
    fake: FakeDiscord,
    env: dict[str, str],
    argv: tuple[str, ...] = ("-m", "bot"),
    timeout: float = 60.0,
    output: Path | None = None,
) -> asyncio.subprocess.Process:
    """Start `python ARGV` and wait until it has identified on the gateway and taken in the guilds.

    With `output`, the process's stdout and stderr go to that file (a file, not a pipe nobody drains, which
    would block a chatty process); otherwise they are discarded.
    """
    identified = fake.gateway.identify_count
    with open(output or os.devnull, "ab") as sink:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, cwd=ROOT, env=env, stdout=sink, stderr=sink
        )
    await fake.gateway.changed.wait_for(lambda: fake.gateway.identify_count > identified, timeout, "identify")
    await fake.wait_until_connected(timeout=timeout)
    await fake.sync(timeout=timeout)
    return process
