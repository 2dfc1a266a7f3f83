"""`python -m bot health` and the bot process's output: heartbeat, listener, JSON log lines, no token anywhere."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakediscord import FakeDiscord, Permissions, running_fake
from tests.processes import ROOT, bot_environment, command_environment, start_process

EXIT_TIMEOUT = 30.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Return a running fake Discord with one server, a member and #general."""
    async with running_fake() as fake:
        guild = fake.add_guild("Alignment Reading Group")
        guild.add_text_channel("general")
        guild.add_member("alice", permissions=Permissions.MANAGE_GUILD)
        yield fake


async def health(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run `python -m bot health ARGS` with the bot's environment; return its exit code and its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def becomes_ready(env: dict[str, str]) -> None:
    """Wait until `health --ready` exits 0: the bot takes in READY's servers (up to 2 s) after it identified."""
    deadline = time.monotonic() + 15
    while (result := await health(env, "--ready"))[0] != 0:
        assert time.monotonic() < deadline, result
        await asyncio.sleep(0.1)
    assert result == (0, "Healthy\n")


async def stop(process: asyncio.subprocess.Process) -> int:
    """SIGTERM the bot and return its exit code (killing it if it hangs)."""
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_health_follows_the_heartbeat_and_the_log_is_json_without_the_token(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """A running bot is healthy and ready by its heartbeat, and not once stopped.

    Every log line of a DEBUG run with LOG_FORMAT=json parses, and the token appears nowhere in the output.
    """
    log = tmp_path / "bot.log"
    env = bot_environment(fake, tmp_path / "bot.sqlite3", LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    assert (await health(env))[0] == 1  # nothing running yet
    process = await start_process(fake, env, output=log)
    try:
        alice = next(m for m in fake.guild.members.values() if m.user.username == "alice")
        general = next(c for c in fake.guild.channels.values() if c.name == "general")
        reply = await (await fake.invoke(alice, "about", channel=general)).reply()
        assert reply.text
        assert await health(env) == (0, "Healthy\n")
        await becomes_ready(env)  # the beat after READY is written at once
        assert await stop(process) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    code, output = await health(env)
    assert code == 1 and "no heartbeat" in output
    text = log.read_text()
    assert fake.token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["level"] == "DEBUG" for line in lines)
    assert lines[-1]["message"] == "Stopped cleanly"


async def test_health_asks_the_listener_when_health_port_is_set(fake: FakeDiscord, tmp_path: Path) -> None:
    """With HEALTH_PORT, `health` and `health --ready` ask the listener: 0 while the bot runs, 1 once it stopped."""
    env = bot_environment(fake, tmp_path / "bot.sqlite3", HEALTH_PORT=str(free_port()))
    process = await start_process(fake, env)
    try:
        assert await health(env) == (0, "Healthy\n")
        await becomes_ready(env)
        assert await stop(process) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    code, output = await health(env)
    assert code == 1 and "nothing answered at http://127.0.0.1:" in output


@pytest.mark.parametrize(
    ("beat", "args", "expected"),
    [
        ({"time": 0, "ready": True, "pid": 1}, (), "s old: the bot stopped or its event loop is stuck"),
        ({"time": "now", "ready": False, "pid": 1}, ("--ready",), "not connected to Discord (not ready)"),
        ("not json", (), "cannot be read (JSONDecodeError)"),
    ],
    ids=["stale", "not-ready", "garbled"],
)
async def test_health_is_1_for_a_stale_unready_or_garbled_heartbeat(
    tmp_path: Path, beat: object, args: tuple[str, ...], expected: str
) -> None:
    """A heartbeat older than a minute, one saying not ready (with --ready), or an unreadable one: exit 1 and why."""
    path = tmp_path / "beat"
    if isinstance(beat, dict):
        beat = json.dumps({**beat, "time": time.time() if beat["time"] == "now" else beat["time"]})
    path.write_text(str(beat))
    env = command_environment(HEARTBEAT_PATH=str(path))
    code, output = await health(env, *args)
    assert code == 1 and expected in output, output
    path.write_text(json.dumps({"time": time.time(), "ready": True, "pid": 1}))
    assert await health(env, *args) == (0, "Healthy\n")
