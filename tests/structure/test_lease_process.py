"""Shard leases between real `python -m bot` processes on one PostgreSQL database and the fake Discord."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.db.test_leases import terminate_lease_connections
from tests.fakediscord import FakeDiscord, running_fake
from tests.processes import ROOT, bot_environment, start_process

# Sent to the server, which trusts local connections and ignores it; it must never be printed.
PASSWORD = "lease-test-secret"
EXIT_TIMEOUT = 30.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Return a running fake Discord with one server in it."""
    async with running_fake() as fake:
        fake.add_guild("Alignment Reading Group").add_text_channel("general")
        yield fake


def with_password(url: str) -> str:
    """Return `url` with PASSWORD in it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port}"))


def shard_environment(fake: FakeDiscord, tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a process running shard 1 of 2 on the PostgreSQL database `url`.

    One shard: discord.py waits 5 s between identifying one shard and the next, which the tests need not pay.
    """
    return bot_environment(fake, tmp_path / "unused.sqlite3", DATABASE_URL=url, SHARD_COUNT="2", SHARD_IDS="1", **extra)


async def exit_code(process: asyncio.subprocess.Process) -> int:
    """Wait for the process to end (killing it if it hangs) and return its exit code."""
    try:
        return await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def start_bot(env: dict[str, str], output: Any) -> asyncio.subprocess.Process:
    """Start `python -m bot` without waiting for it to connect (it may be waiting for a lease), output to `output`."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=output, stderr=output
    )


async def wait_for_line(log: Path, text: str) -> None:
    """Wait until the process writing `log` has logged `text`."""
    async with asyncio.timeout(EXIT_TIMEOUT):
        while not log.exists() or text not in log.read_text():
            await asyncio.sleep(0.05)


async def test_a_second_process_on_the_same_shards_is_refused(
    fake: FakeDiscord, tmp_path: Path, postgres_database: str
) -> None:
    """With SHARD_LEASE_WAIT=0 it exits 1 at once with the sentence, the password never shown, Discord untouched."""
    url = with_password(postgres_database)
    first = await start_process(fake, shard_environment(fake, tmp_path, url))
    try:
        identified = fake.gateway.identify_count
        second = await start_bot(shard_environment(fake, tmp_path, url, SHARD_LEASE_WAIT="0"), asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(second.communicate(), EXIT_TIMEOUT)
        assert second.returncode == 1
        redacted = url.replace(PASSWORD, "***")
        assert stderr.decode().splitlines() == [
            f"Cannot start: Shard 1 is held by another bot process on this database (DATABASE_URL={redacted}); "
            "stop it first, or give this one other SHARD_IDS."
        ]
        assert PASSWORD not in (stdout + stderr).decode()
        assert fake.gateway.identify_count == identified
    finally:
        first.terminate()
        assert await exit_code(first) == 0


async def test_a_waiting_process_takes_over_when_the_holder_is_killed(
    fake: FakeDiscord, tmp_path: Path, postgres_database: str
) -> None:
    """A rolling deploy or a crash: the second waits for the lease, and connects once the first is SIGKILLed."""
    first = await start_process(fake, shard_environment(fake, tmp_path, postgres_database))
    log = tmp_path / "second.log"
    second: asyncio.subprocess.Process | None = None
    try:
        identified = fake.gateway.identify_count
        with log.open("ab") as sink:
            second = await start_bot(shard_environment(fake, tmp_path, postgres_database, SHARD_LEASE_WAIT="30"), sink)
        try:
            await wait_for_line(log, "Shard 1 is held by another bot process on this database; waiting up to 30 s")
            assert fake.gateway.identify_count == identified  # waiting, not connecting
        finally:
            first.kill()  # SIGKILL: no clean-up runs; the server frees the locks when the connection drops
            await first.wait()
        await fake.gateway.changed.wait_for(lambda: fake.gateway.identify_count > identified, 15, "identify")
        await fake.wait_until_connected(timeout=15)
        second.terminate()
        assert await exit_code(second) == 0, log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_lost_lease_stops_the_bot(fake: FakeDiscord, tmp_path: Path, postgres_database: str) -> None:
    """If the lease connection drops (a database restart), the bot logs it as critical and stops, exit code 1."""
    log = tmp_path / "bot.log"
    process = await start_process(fake, shard_environment(fake, tmp_path, postgres_database), output=log)
    assert await terminate_lease_connections(postgres_database) == 1
    assert await exit_code(process) == 1, log.read_text()
    output = log.read_text()
    assert "CRITICAL" in output and "Lost the lease on shard 1" in output, output
    assert "Traceback" not in output


async def test_a_stop_signal_ends_the_wait_for_the_lease(
    fake: FakeDiscord, tmp_path: Path, postgres_database: str
) -> None:
    """SIGTERM while waiting for another process's shards exits 0 at once (not by the 8 s forced exit, code 1)."""
    first = await start_process(fake, shard_environment(fake, tmp_path, postgres_database))
    log = tmp_path / "second.log"
    try:
        with log.open("ab") as sink:
            second = await start_bot(shard_environment(fake, tmp_path, postgres_database, SHARD_LEASE_WAIT="30"), sink)
        await wait_for_line(log, "waiting up to 30 s")
        second.terminate()
        try:
            assert await asyncio.wait_for(second.wait(), 5) == 0, log.read_text()
        finally:
            await exit_code(second)  # kills it if it is still running
        assert "Traceback" not in log.read_text()
    finally:
        first.terminate()
        assert await exit_code(first) == 0
