"""The bot as a real process (`python -m bot`) against the fake Discord: signals, the database lock, its log."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakediscord import FakeDiscord, running_fake
from tests.processes import ROOT, bot_environment, start_process

# Generous: a clean stop takes well under a second; the bound only keeps a hung process from hanging the suite.
EXIT_TIMEOUT = 30.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Return a running fake Discord with one server in it."""
    async with running_fake() as fake:
        fake.add_guild("Alignment Reading Group").add_text_channel("general")
        yield fake


async def exit_code(process: asyncio.subprocess.Process) -> int:
    """Wait for the process to end (killing it if it hangs) and return its exit code."""
    try:
        return await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_bot_cleanly(fake: FakeDiscord, tmp_path: Path, signum: signal.Signals) -> None:
    """SIGTERM (docker stop) or SIGINT (Ctrl-C) closes the bot and the database, logs the clean stop, exits 0."""
    log = tmp_path / "bot.log"
    env = bot_environment(fake, tmp_path / "bot.sqlite3", LOG_LEVEL="INFO")
    process = await start_process(fake, env, output=log)
    try:
        process.send_signal(signum)
        assert await exit_code(process) == 0, log.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert f"Received {signum.name}; stopping" in output
    assert output.rstrip().endswith("Stopped cleanly"), output
    assert "Traceback" not in output


async def test_start_up_logs_no_voice_warnings(fake: FakeDiscord, tmp_path: Path) -> None:
    """The bot has no voice features, so discord.py's PyNaCl and davey warnings are switched off."""
    log = tmp_path / "bot.log"
    process = await start_process(fake, bot_environment(fake, tmp_path / "bot.sqlite3"), output=log)
    process.terminate()
    await exit_code(process)
    output = log.read_text()
    assert "PyNaCl" not in output
    assert "davey" not in output


async def test_a_second_process_on_the_same_database_is_refused(fake: FakeDiscord, tmp_path: Path) -> None:
    """While one bot runs, a second on its database exits 1 with a sentence naming it; after kill -9, one starts."""
    database = tmp_path / "bot.sqlite3"
    env = bot_environment(fake, database)
    first = await start_process(fake, env)
    try:
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await asyncio.wait_for(second.communicate(), EXIT_TIMEOUT)
        assert second.returncode == 1
        assert stderr.decode().splitlines() == [
            f"Cannot start: another bot process (pid {first.pid}) is already using DATABASE_PATH={database}; "
            "stop it first — running two on one database would record every click twice."
        ]
    finally:
        first.kill()  # SIGKILL: no clean-up runs, the kernel alone releases the lock
        await first.wait()

    third = await start_process(fake, env)  # returns once it has connected to the gateway
    third.terminate()
    assert await exit_code(third) == 0


async def test_once_ready_the_start_up_objects_are_frozen_out_of_the_collector(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """After READY, the bot collects start-up's garbage and freezes the survivors (bot/memory.py), once."""
    log = tmp_path / "bot.log"
    process = await start_process(fake, bot_environment(fake, tmp_path / "bot.sqlite3", LOG_LEVEL="DEBUG"), output=log)
    try:
        async with asyncio.timeout(EXIT_TIMEOUT):
            while "start-up objects out of the garbage collector" not in log.read_text():
                await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        await exit_code(process)
    froze = [line for line in log.read_text().splitlines() if "start-up objects out of the garbage" in line]
    assert len(froze) == 1 and int(froze[0].split("Froze ")[1].split()[0]) > 10_000, froze
