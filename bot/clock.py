"""Wall-clock time behind an interface, so tests move time instead of sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol

# Long sleeps are cut into pieces so a changed system clock (or a suspended VM) is noticed within this time.
_MAX_NAP = 300.0


class Clock(Protocol):
    """The current time, and a way to wait for a moment."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware (UTC)."""
        ...

    async def sleep_until(self, moment: datetime) -> None:
        """Return once `moment` has come (at once if it has passed)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        """Sleep until `moment`, re-checking the clock at least every few minutes."""
        while (remaining := (moment - self.now()).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, _MAX_NAP))


async def sleep_until_or_woken(clock: Clock, moment: datetime | None, wake: asyncio.Event) -> None:
    """Sleep until `moment` (or indefinitely when None) unless `wake` is set first; then clear `wake`."""
    waiters: list[asyncio.Task[object]] = [asyncio.create_task(wake.wait())]
    if moment is not None:
        waiters.append(asyncio.create_task(clock.sleep_until(moment)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        wake.clear()
