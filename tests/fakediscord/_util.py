"""Small shared helpers: snowflakes, timestamps, JSON responses and a waiter primitive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

#: Discord's epoch (2015-01-01T00:00:00Z) in milliseconds; snowflakes count from here.
DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeGenerator:
    """Generates realistic, strictly increasing snowflake ids.

    The top 42 bits are the millisecond timestamp since the Discord epoch, like real ids,
    so ``discord.utils.snowflake_time`` gives a sensible creation time.
    """

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        #: Seconds since the Unix epoch, as ids are made; a test whose bot runs on a fake clock points this at it,
        #: so that ids (and a search of a channel "after" a moment) agree with the bot's idea of now.
        self.clock: Callable[[], float] = time.time
        self._worker = worker_id & 0x1F
        self._process = process_id & 0x1F
        self._increment = 0
        self._last = 0

    def __call__(self) -> int:
        """Return the next snowflake id."""
        ms = int(self.clock() * 1000) - DISCORD_EPOCH_MS
        self._increment = (self._increment + 1) & 0xFFF
        candidate = (ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment
        # Several ids inside the same millisecond must still be strictly increasing.
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def next_in_shard(self, shard_id: int, shard_count: int) -> int:
        """Next id whose guild shard ``(id >> 22) % shard_count`` is ``shard_id``.

        The shard comes from the timestamp bits, so the id is dated up to ``shard_count - 1`` ms ahead.
        """
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard id {shard_id} is not in 0..{shard_count - 1}")
        candidate = self()
        candidate += ((shard_id - (candidate >> 22)) % shard_count) << 22
        self._last = candidate
        return candidate


def iso_now() -> str:
    """Return the current UTC time as the ISO-8601 string Discord uses in payloads."""
    return datetime.now(UTC).isoformat()


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Build a JSON response whose Content-Type is exactly ``application/json``.

    ``aiohttp.web.json_response`` appends ``; charset=utf-8`` and discord.py's ``json_or_text``
    compares the header verbatim, so it would then treat every body as plain text.
    """
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers)


class Notifier:
    """Lets coroutines wait until a predicate over some shared state becomes true.

    Whoever mutates the state calls :meth:`notify`; waiters re-check their predicate.
    This avoids polling loops and keeps waits fast and deterministic.
    """

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        """Wake every waiter so it can re-evaluate its predicate."""
        futures, self._futures = self._futures, []
        for fut in futures:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float, what: str) -> T:
        """Return the first truthy value of ``predicate()``; raise ``TimeoutError`` naming ``what``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fakediscord: timed out after {timeout:.2f}s waiting for {what}")
            fut: asyncio.Future[None] = loop.create_future()
            self._futures.append(fut)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, remaining)
