"""The supervised background loop: it survives failing passes with backoff, and never ends silently."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest

from bot.background import BackgroundLoop, backoff
from tests.clock import FakeClock


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 15), (2, 30), (3, 60), (6, 480), (7, 900), (50, 900)], ids=lambda v: str(v)
)
def test_backoff_doubles_up_to_a_cap(failures: int, seconds: int) -> None:
    """Waits after repeated failures double from 15 s and stop growing at 15 minutes."""
    assert backoff(failures) == timedelta(seconds=seconds)


async def test_a_failing_pass_is_logged_and_retried_after_the_backoff(caplog: pytest.LogCaptureFixture) -> None:
    """A pass that raises is logged with an error code, then retried once the backoff has passed, not before."""
    clock = FakeClock()
    outcomes: list[str] = []

    async def run_pass() -> datetime | None:
        if not outcomes:
            outcomes.append("failed")
            raise ConnectionError("database is locked")
        outcomes.append("ran")
        return None

    loop = BackgroundLoop("test-loop", run_pass, clock)
    with caplog.at_level(logging.ERROR, logger="bot.background"):
        loop.start()
        await clock.advance(timedelta(seconds=0))
        assert outcomes == ["failed"] and loop.failures == 1
        await clock.advance(timedelta(seconds=14))
        assert outcomes == ["failed"]
        await clock.advance(timedelta(seconds=1))
        assert outcomes == ["failed", "ran"] and loop.failures == 0
    assert "test-loop: pass failed (error " in caplog.text and "database is locked" in caplog.text
    await loop.stop()
    assert not loop.running


async def test_a_loop_that_ends_while_the_bot_runs_is_reported_loudly(caplog: pytest.LogCaptureFixture) -> None:
    """If the loop's task ever ends on its own (here: its start-up wait fails), a CRITICAL line says so."""

    async def broken_ready() -> None:
        raise RuntimeError("client not logged in")

    async def run_pass() -> datetime | None:
        return None

    loop = BackgroundLoop("doomed-loop", run_pass, FakeClock(), ready=broken_ready)
    with caplog.at_level(logging.CRITICAL, logger="bot.background"):
        loop.start()
        for _ in range(5):
            await asyncio.sleep(0)
    assert not loop.running
    assert "Background loop doomed-loop ended while the bot runs" in caplog.text


async def test_stop_lets_a_begun_pass_finish(caplog: pytest.LogCaptureFixture) -> None:
    """Stopping while a pass runs waits for it (within the grace), and no CRITICAL line is logged."""
    clock = FakeClock()
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def run_pass() -> datetime | None:
        started.set()
        await release.wait()
        finished.set()
        return None

    loop = BackgroundLoop("busy-loop", run_pass, clock)
    loop.start()
    await started.wait()
    stopping = asyncio.create_task(loop.stop(grace=5))
    await asyncio.sleep(0.01)
    assert not stopping.done()
    release.set()
    await stopping
    assert finished.is_set() and "ended while" not in caplog.text
