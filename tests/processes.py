"""Running the real bot as its own process against the fake Discord (tests and benchmarks share this)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]


def bot_environment(fake: FakeDiscord, database: Path, **extra: str) -> dict[str, str]:
    """Return the environment a bot process needs to talk to `fake`, without any inherited bot settings."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DEV_GUILD", "DATABASE_"))}
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
    fake: FakeDiscord, env: dict[str, str], argv: tuple[str, ...] = ("-m", "bot"), timeout: float = 60.0
) -> asyncio.subprocess.Process:
    """Start `python ARGV` and wait until it has identified on the gateway and taken in the guilds."""
    identified = fake.gateway.identify_count
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    await fake.gateway.changed.wait_for(lambda: fake.gateway.identify_count > identified, timeout, "identify")
    await fake.wait_until_connected(timeout=timeout)
    await fake.sync(timeout=timeout)
    return process
