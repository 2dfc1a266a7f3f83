"""Glue between the fake and discord.py: patching its URLs and running a client against the fake.

This is the only module that imports discord.py (lazily), so the rest of the fake stays
independent of the client under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from .fake import FakeDiscord

if TYPE_CHECKING:
    import discord


@contextlib.contextmanager
def patch_discord(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base (``Route.BASE``) and gateway (``DEFAULT_GATEWAY``) at ``fake``.

    ``Route.BASE`` also covers interaction callbacks and webhook follow-ups. The previous
    values are restored on exit.
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


class _ScaledAsyncio(types.ModuleType):
    """Stand-in for the ``asyncio`` module with ``sleep`` scaled down; everything else delegates."""

    def __init__(self, factor: float) -> None:
        super().__init__("asyncio")
        self._factor = factor

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        """Sleep ``delay * factor`` seconds."""
        return await asyncio.sleep(delay * self._factor, result)


@contextlib.contextmanager
def fast_http_retries(factor: float = 0.01) -> Iterator[None]:
    """Make discord.py's HTTP retry back-off (``1 + 2*try`` s after a 5xx) ``factor`` times shorter.

    Patches the ``asyncio`` name inside ``discord.http`` and ``discord.webhook.async_`` only.
    """
    import discord.http
    import discord.webhook.async_ as webhook_async

    modules: list[Any] = [discord.http, webhook_async]
    saved = [m.asyncio for m in modules]
    scaled = _ScaledAsyncio(factor)
    for m in modules:
        m.asyncio = scaled
    try:
        yield
    finally:
        for m, old in zip(modules, saved, strict=True):
            m.asyncio = old


@contextlib.asynccontextmanager
async def running_fake(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """Start a :class:`FakeDiscord` (kwargs go to its constructor) and stop it on exit.

    Usage: ``async with running_fake(ack_deadline=0.5) as fake: ...``
    """
    fake = FakeDiscord(**kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@contextlib.asynccontextmanager
async def connected_client(
    fake: FakeDiscord,
    client: discord.Client,
    token: str | None = None,
    *,
    timeout: float = 10.0,
) -> AsyncIterator[discord.Client]:
    """Start ``client`` against ``fake`` and wait until it is ready; close it cleanly on exit.

    Runs ``client.start(token)`` in a task (so ``setup_hook`` runs as usual), waits for
    ``client.is_ready()`` (pass ``guild_ready_timeout=0.1`` to the client to keep this fast),
    and re-raises the client's startup error if it dies first (e.g. LoginFailure).
    """
    with patch_discord(fake):
        task = asyncio.create_task(client.start(token or fake.token), name="fakediscord-client")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not client.is_ready():
                if task.done():
                    task.result()  # raises the startup error
                    raise RuntimeError("discord client stopped before becoming ready")
                if loop.time() > deadline:
                    raise TimeoutError(f"discord client not ready after {timeout}s")
                # Polling is fine here: readiness has no hook that exists before login().
                await asyncio.sleep(0.005)
            yield client
        finally:
            if not client.is_closed():
                await client.close()
            try:
                await asyncio.wait_for(task, timeout)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: S110 - the client's own error was already surfaced above
                pass
