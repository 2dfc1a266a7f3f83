"""Is the bot alive, and ready? A heartbeat file always, and an optional HTTP listener for monitors.

`HealthService(bot, ...)` is entered around the bot's lifetime (bot/run.py). It always rewrites a small heartbeat file
every HEARTBEAT_INTERVAL from a supervised loop, which `python -m bot health` reads when no listener is configured.
With HEALTH_PORT set it also serves, on HEALTH_HOST only:

- `/healthz`: 200 whenever the process and its event loop answer (liveness: restart the bot if this fails);
- `/readyz`: 200 only when every shard of this process is connected and past READY (or RESUMED after a drop) and
  the database answers within DB_TIMEOUT; else 503 with a short reason (readiness: don't route work to it);
- `/metrics`: every collector of the default Prometheus registry (bot/metrics.py), in the text format.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web
from discord.ext import commands
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.background import BackgroundLoop
from bot.clock import SystemClock
from bot.db import Database
from bot.errors import StartupError

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = timedelta(seconds=15)
# A heartbeat older than this means the event loop is stuck or the process is gone (several missed beats).
HEARTBEAT_STALE_AFTER = 60.0
DB_TIMEOUT = 2.0  # seconds the database may take to answer /readyz's query


class GatewayWatch:
    """Tracks which of this process's shards are down: disconnected, and not yet past READY or RESUMED again.

    discord.py's own `is_ready()` stays true through a gateway drop, and a reconnected websocket is open before its
    RESUME is accepted, so readiness follows the shard events instead. Attach it before the bot connects.
    """

    def __init__(self, bot: commands.AutoShardedBot, changed: Callable[[], None] = lambda: None) -> None:
        self.bot = bot
        self.changed = changed  # called when a shard goes down or comes up
        self._down: set[int] = set()
        bot.add_listener(self._disconnected, "on_shard_disconnect")
        bot.add_listener(self._up, "on_shard_ready")
        bot.add_listener(self._up, "on_shard_resumed")

    async def _disconnected(self, shard_id: int) -> None:
        self._down.add(shard_id)
        self.changed()

    async def _up(self, shard_id: int) -> None:
        self._down.discard(shard_id)
        self.changed()

    def problem(self) -> str | None:
        """Say why the gateway is not ready, or None when every shard is connected and ready."""
        if self.bot.is_closed():
            return "the bot is stopping"
        if not self.bot.is_ready():
            return "not connected to Discord yet (waiting for READY)"
        if self._down:
            shards = ", ".join(str(shard) for shard in sorted(self._down))
            return f"the gateway connection of shard {shards} dropped; reconnecting"
        return None


async def database_problem(db: Database, timeout: float = DB_TIMEOUT) -> str | None:
    """Say why the database is not answering, or None when a trivial query returns within `timeout` seconds."""
    try:
        # A one-row read by primary key: the cheapest query the storage layer offers, on either backend.
        await asyncio.wait_for(db.state.get_meta("health"), timeout)
    except TimeoutError:
        return f"the database did not answer within {timeout:g} s"
    except Exception as error:  # any failure means not ready; the reason names its type only, never a URL
        return f"the database query failed ({type(error).__name__})"
    return None


def write_heartbeat(path: Path, *, ready: bool) -> None:
    """Write the heartbeat (wall-clock time, readiness, pid) to a temporary file and rename it over `path`."""
    text = json.dumps({"time": time.time(), "ready": ready, "pid": os.getpid()})
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)  # atomic: a reader sees the old beat or the new one, never half of one


class HealthService:
    """The heartbeat loop and, with a port, the HTTP listener; an async context manager around the bot's life."""

    def __init__(
        self,
        bot: commands.AutoShardedBot,
        db: Database,
        *,
        heartbeat: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.bot, self.db = bot, db
        self.heartbeat, self.port, self.host = heartbeat, port, host
        # Real time, whatever the bot's clock: the file is read by another process against its own clock.
        self.loop = BackgroundLoop("heartbeat", self._beat, SystemClock())
        # A beat at once when readiness changes, so `health --ready` need not wait for the next one.
        self.gateway = GatewayWatch(bot, changed=self.loop.wake)
        self._runner: web.AppRunner | None = None

    async def problem(self) -> str | None:
        """Say why the bot is not ready (gateway first, then database), or None when it is."""
        return self.gateway.problem() or await database_problem(self.db)

    async def _beat(self) -> datetime:
        ready = self.gateway.problem() is None
        await asyncio.to_thread(write_heartbeat, self.heartbeat, ready=ready)
        return SystemClock().now() + HEARTBEAT_INTERVAL

    def app(self) -> web.Application:
        """Return the web application with the three endpoints."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    @property
    def bound_port(self) -> int | None:
        """The port the listener is on (the one the system chose, when started with port 0), or None when off."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        problem = await self.problem()
        if problem is not None:
            return web.Response(status=503, text=f"not ready: {problem}\n")
        return web.Response(text="ready\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def __aenter__(self) -> Self:
        if self.port is not None:
            await self._listen(self.port)
        self.loop.start()
        return self

    async def _listen(self, port: int) -> None:
        # No access log: a scrape every few seconds would bury everything else in the log.
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, port, reuse_address=True).start()
        except OSError as error:
            await runner.cleanup()
            if error.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"HEALTH_PORT={port} is already in use on {self.host}: stop what listens there, or choose "
                    "another port."
                ) from None
            raise StartupError(
                f"HEALTH_PORT={port} on HEALTH_HOST={self.host} cannot be listened on: {error.strerror or error}."
            ) from None
        self._runner = runner
        log.info("Serving /healthz, /readyz and /metrics on %s:%d", self.host, port)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.loop.stop(grace=1.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Gone, not stale: `python -m bot health` then says the bot is not running.
        with contextlib.suppress(FileNotFoundError):
            self.heartbeat.unlink()
