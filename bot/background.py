"""Supervised background loops: the one shape every long-running job of the bot has.

A loop runs passes. A pass returns when the next one is wanted (None: only when woken). The whole pass runs inside
the error handling, so a failure anywhere in it (a locked database, a Discord outage) is logged with an error code
and retried with exponential backoff instead of ending the loop. A done-callback logs loudly if the task ever ends
while the bot runs. `stop()` lets a pass that has begun finish (within a bound) before cancelling the loop, so a
post that went out is recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot import metrics
from bot.clock import Clock, sleep_until_or_woken
from bot.errors import error_code

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=15)
MAX_RETRY = timedelta(minutes=15)
STOP_GRACE = 10.0  # seconds a pass that has begun may take to finish when the bot stops


def backoff(failures: int, first: timedelta = FIRST_RETRY, cap: timedelta = MAX_RETRY) -> timedelta:
    """Return the wait after `failures` failures in a row: first, 2×first, 4×first, … up to `cap`."""
    doublings = min(max(failures - 1, 0), 30)  # bounded, so a long outage cannot overflow timedelta
    return min(first * 2**doublings, cap)


class BackgroundLoop:
    """Runs `run_pass` over and over, surviving every error; wake it with `wake()`, end it with `stop()`."""

    def __init__(
        self,
        name: str,
        run_pass: Callable[[], Awaitable[datetime | None]],
        clock: Clock,
        *,
        ready: Callable[[], Awaitable[object]] | None = None,
        first_retry: timedelta = FIRST_RETRY,
        max_retry: timedelta = MAX_RETRY,
    ) -> None:
        self.name = name
        self._run_pass = run_pass
        self._clock = clock
        self._ready = ready
        self._first_retry, self._max_retry = first_retry, max_retry
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while no pass is running
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.stopping = False
        #: Failed passes in a row (0 after a pass succeeds).
        self.failures = 0
        #: How many passes ran, and how many of them failed, since the start (for tests and /about).
        self.passes = 0
        self.failed_passes = 0
        #: The last failed pass since the start: what went wrong (with its error code) and when (for /status).
        self.last_error: str | None = None
        self.last_failed_at: datetime | None = None

    def start(self) -> None:
        """Start the loop in a task that reports loudly if it ever ends on its own."""
        self.stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)
        self._task.add_done_callback(self._ended)

    def wake(self) -> None:
        """Run a pass now (after something changed), instead of at the planned time."""
        self._wake.set()

    @property
    def running(self) -> bool:
        """Whether the loop's task is alive."""
        return self._task is not None and not self._task.done()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the loop; a pass that has begun gets `grace` seconds to finish first."""
        self.stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        if not self._idle.is_set():
            try:
                await asyncio.wait_for(self._idle.wait(), grace)
            except TimeoutError:
                log.warning("%s: a pass was still running after %.0f s; stopping it", self.name, grace)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.stopping:
            return
        error = task.exception()
        log.critical(
            "Background loop %s ended while the bot runs; its work will not happen until a restart",
            self.name,
            exc_info=error,
        )

    async def _run(self) -> None:
        if self._ready is not None:
            await self._ready()
        while not self.stopping:
            self._idle.clear()
            try:
                wake_at = await self._run_pass()
            except Exception as error:
                self.failures += 1
                self.failed_passes += 1
                delay = backoff(self.failures, self._first_retry, self._max_retry)
                code = error_code()
                self.last_error = f"error {code}: {type(error).__name__}: {error}"[:300]
                self.last_failed_at = self._clock.now()
                metrics.LOOP_RESTARTS.labels(self.name).inc()
                metrics.count_error(error)
                log.exception(
                    "%s: pass failed (error %s, %d in a row); retrying in %d s",
                    self.name,
                    code,
                    self.failures,
                    delay.total_seconds(),
                )
                wake_at = self._clock.now() + delay
            else:
                self.failures = 0
                if self.passes == self.failed_passes:  # the first pass to succeed since the start
                    log.info("%s: caught up after the start; next pass at %s", self.name, wake_at or "a change")
            finally:
                self.passes += 1
                self._idle.set()
            if self.stopping:
                return
            await sleep_until_or_woken(self._clock, wake_at, self._wake)
