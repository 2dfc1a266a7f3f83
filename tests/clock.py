"""A clock for tests: time only moves when the test says so, and sleepers wake as it passes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Implements bot.clock.Clock; `advance` moves time forward and wakes every sleeper that is due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        """Return the fake current time."""
        return self._now

    async def sleep_until(self, moment: datetime) -> None:
        """Wait until the test advances the clock to `moment` or beyond."""
        if moment <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((moment, future))
        try:
            await future
        finally:
            self._sleepers = [(m, f) for m, f in self._sleepers if f is not future]

    @property
    def sleepers(self) -> list[datetime]:
        """Return the moments tasks are currently waiting for."""
        return sorted(m for m, f in self._sleepers if not f.done())

    async def advance(self, delta: timedelta) -> None:
        """Move time forward by `delta`, wake the sleepers that are now due, and let them run."""
        await self.set(self._now + delta)

    async def set(self, moment: datetime) -> None:
        """Move time to `moment` (never backwards) and let due sleepers run."""
        self._now = max(self._now, moment)
        for when, future in list(self._sleepers):
            if when <= self._now and not future.done():
                future.set_result(None)
        for _ in range(5):  # a few turns of the loop, so woken tasks reach their next await
            await asyncio.sleep(0)
