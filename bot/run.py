"""Running the bot process: lock or lease the database, open it, connect to Discord; SIGTERM or SIGINT stops it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.db import Database
from bot.db.leases import LeaseLost, ShardLease
from bot.db.lock import DatabaseInUse, exclusive_lock, lock_path
from bot.domain.content import ContentInvalid, ContentStore
from bot.domain.content_loader import load_content
from bot.errors import StartupError
from bot.memory import settle_after_start
from bot.settings import Settings

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger("bot")

# After SIGTERM, give up on a clean stop after this long: Docker sends SIGKILL 10 s after SIGTERM by default, and
# exiting on our own first still closes SQLite safely (every commit is already atomic and durable).
SHUTDOWN_TIMEOUT = 8.0


def load_content_or_fail(directory: Path) -> ContentStore:
    """Load the content folder, turning validation errors into a StartupError that names each file and line."""
    try:
        return load_content(directory)
    except ContentInvalid as exc:
        if len(exc.errors) == 1:
            raise StartupError(f"The content in {directory} has 1 error: {exc.errors[0]}") from None
        lines = "\n".join(f"  {error}" for error in exc.errors)
        raise StartupError(f"The content in {directory} has {len(exc.errors)} errors:\n{lines}") from None


def check_database_path(path: Path) -> None:
    """Refuse a DATABASE_PATH that is a folder, before anything is created next to it."""
    if path.is_dir():
        raise StartupError(f"DATABASE_PATH={path} is a folder; set it to a file path, such as {path / 'bot.sqlite3'}.")


@contextlib.contextmanager
def database_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<DATABASE_PATH>.lock` while inside; refuse to start if another process has it.

    Two bot processes on one database would both answer every interaction, recording each click twice. The
    kernel drops a flock() lock when its process dies, even by SIGKILL, so a crash never leaves a stale lock.
    Not taken in `Database.open`: tests open the same file again in-process to simulate a restart.
    """
    held = contextlib.ExitStack()
    try:  # only taking the lock is turned into a sentence here, never an error of the bot running inside
        held.enter_context(exclusive_lock(path))
    except DatabaseInUse as exc:
        pid = f" (pid {exc.pid})" if exc.pid else ""
        raise StartupError(
            f"another bot process{pid} is already using DATABASE_PATH={path}; stop it first — "
            "running two on one database would record every click twice."
        ) from None
    except OSError as exc:
        target = lock_path(path) if path.parent.is_dir() else path.parent
        raise StartupError(
            f"DATABASE_PATH={path} cannot be used: {target} cannot be created ({exc.strerror or exc}); "
            "point DATABASE_PATH at a writable location."
        ) from None
    with held:
        yield


async def open_database(settings: Settings) -> Database:
    """Open and migrate the database, turning one that cannot be used into a sentence naming the setting."""
    target = settings.database
    if target.url is not None:
        return await open_postgres(target.url, target.redacted, settings.database_pool_size)
    path = settings.database_path if target.path is None else target.path
    try:
        return await Database.open(path, synchronous=settings.database_synchronous)
    except sqlite3.DatabaseError as exc:  # (a MigrationError is already a StartupError with its own sentence)
        if getattr(exc, "sqlite_errorname", "") in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
            raise StartupError(
                f"DATABASE_PATH={path} is not a SQLite database, or it is damaged ({exc}); point DATABASE_PATH at "
                "the bot's database, or move this file away to start with a new one."
            ) from None
        raise StartupError(f"DATABASE_PATH={path} cannot be opened: {exc}.") from None
    except OSError as exc:
        raise StartupError(f"DATABASE_PATH={path} cannot be opened: {exc.strerror or exc}.") from None


async def open_postgres(url: str, redacted: str, pool_size: int) -> Database:
    """Connect to PostgreSQL and migrate, naming DATABASE_URL (password replaced by ***) when that fails."""
    with postgres_errors_named(redacted):
        return await Database.open(url, pool_size=pool_size)


async def take_shard_lease(settings: Settings, url: str, stop: asyncio.Event) -> ShardLease | None:
    """Lease this process's shards on PostgreSQL (bot/db/leases.py); None if stopped (SIGTERM) while waiting."""
    redacted = settings.database.redacted
    take = ShardLease.take(url, settings.shard_scope, redacted_url=redacted, wait=settings.shard_lease_wait)
    with postgres_errors_named(redacted):
        taking, stopping = asyncio.create_task(take), asyncio.create_task(stop.wait())
        await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        taking.cancel()  # nothing once it is done; while it waits, take() closes its connection
        await asyncio.wait({taking})
        return None if taking.cancelled() else taking.result()


@contextlib.contextmanager
def postgres_errors_named(redacted: str) -> Iterator[None]:
    """Turn a failure to connect to PostgreSQL or to use it into a sentence naming DATABASE_URL (redacted)."""
    import asyncpg  # here: a SQLite-only bot never loads it

    setting = f"DATABASE_URL={redacted}"
    try:
        yield
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise StartupError(f"{setting}: the PostgreSQL server refused the user or password ({exc}).") from None
    except asyncpg.InvalidCatalogNameError:
        raise StartupError(
            f"{setting}: that database does not exist on the PostgreSQL server; create it (CREATE DATABASE) "
            "or correct the name in DATABASE_URL."
        ) from None
    except asyncpg.PostgresError as exc:
        raise StartupError(f"{setting} cannot be used: {exc}.") from None
    except OSError as exc:  # refused, unknown host, unreachable network, or no answer in time (TimeoutError)
        reason = exc.strerror or str(exc) or "no answer in time"
        raise StartupError(
            f"{setting}: the PostgreSQL server cannot be reached ({reason}); check the host and port in "
            "DATABASE_URL, and that the server is running."
        ) from None


def stop_on_signals() -> asyncio.Event:
    """Return an event set by the first SIGTERM or SIGINT; a second one, or a stop that hangs, exits at once.

    Without a handler, SIGTERM kills the process before anything is closed, and as PID 1 in a container (no
    init) it is ignored until Docker gives up and sends SIGKILL.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def force_exit(reason: str) -> None:
        log.warning("%s; exiting without finishing the shutdown", reason)
        os._exit(1)

    def on_signal(signum: signal.Signals) -> None:
        if stop.is_set():
            force_exit(f"Received {signum.name} again while stopping")
        log.info("Received %s; stopping", signum.name)
        stop.set()
        loop.call_later(SHUTDOWN_TIMEOUT, force_exit, f"Still stopping after {SHUTDOWN_TIMEOUT:.0f} s")

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    return stop


async def run_until_stopped(bot: commands.AutoShardedBot, token: str, stop: asyncio.Event) -> None:
    """Run the bot until it ends by itself (raising any error) or `stop` is set, then close it."""
    if stop.is_set():
        return
    running = asyncio.create_task(bot.start(token))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        stopping.cancel()
        running.result()  # LoginFailure and the like are raised here
        return
    # Bot.close() unloads the extensions, whose cog_unload stops their loops, letting a begun post finish.
    await bot.close()
    await asyncio.wait({running}, timeout=5)
    if not running.done():
        running.cancel()
    elif not running.cancelled() and running.exception() is not None:
        # Stopped in the middle of logging in: the error is the interruption, not a problem to report.
        log.debug("The bot stopped while starting: %r", running.exception())


async def settle_when_ready(bot: commands.AutoShardedBot) -> None:
    """Once the bot is first ready, and start-up's work is done, tidy the process's memory (bot/memory.py)."""
    await bot.wait_until_ready()
    settle_after_start()


async def run_bot(settings: Settings, *, force_sync: bool) -> None:
    """Load content, lock and open the database, and run the bot until it is stopped."""
    # Imported here so `content check` works without loading discord.py.
    import discord

    from bot.bot import AlignmentBot, discord_endpoints
    from bot.domain.search import Library
    from bot.health import HealthService

    stop = stop_on_signals()
    token = settings.require_token()
    # Content first: started from the wrong folder, the bot must stop before it creates a database there.
    library = Library.build(load_content_or_fail(settings.content_dir))
    target = settings.database
    if target.path is not None:
        check_database_path(target.path)
    # The bot has no voice features: discord.py's own switch keeps it from warning that voice libraries are absent.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    # One process per SQLite file; on PostgreSQL one process per shard, leased before migrating or connecting to
    # Discord (so in a rolling deploy the new version waits for the old one to exit), released after all else.
    lease = await take_shard_lease(settings, target.url, stop) if target.url is not None else None
    if stop.is_set():  # stopped while waiting for the lease
        if lease is not None:
            await lease.close()
        return
    with database_lock(target.path) if target.path is not None else contextlib.nullcontext():
        async with lease or contextlib.nullcontext(), await open_database(settings) as db:
            if lease is not None:
                lease.stop_when_lost(stop)
            with discord_endpoints(settings.discord_api_base, settings.discord_gateway_url):
                bot = AlignmentBot(settings=settings, db=db, library=library, force_sync=force_sync)
                # Outside the bot's own block: the listener answers (503) until READY and is stopped last.
                health = HealthService(
                    bot, db, heartbeat=settings.heartbeat_file, port=settings.health_port, host=settings.health_host
                )
                async with health, bot:
                    # Inside: wait_until_ready needs the client set up by `async with`.
                    settling = asyncio.create_task(settle_when_ready(bot))
                    try:
                        await run_until_stopped(bot, token, stop)
                    except discord.LoginFailure:
                        raise StartupError(
                            "Discord rejected DISCORD_TOKEN: copy the token again from the Bot page of your "
                            "application."
                        ) from None
                    finally:
                        settling.cancel()
    if lease is not None and lease.lost.is_set():
        raise LeaseLost
    log.info("Stopped cleanly")
