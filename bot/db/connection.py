"""The connection: one aiosqlite connection shared by every coroutine, transactions, and the fetch helpers."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Self

import aiosqlite

from bot.db import migrations
from bot.db.base import ClosedOnExit, RollBack

__all__ = ["Connection", "RollBack"]

log = logging.getLogger(__name__)

# Set while the current task holds the write lock inside `transaction()`, so queries it runs don't wait on it.
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)


class Connection(ClosedOnExit):
    """The SQLite connection. Open it with `open(path)` (in `Database.open`), which also migrates it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        # One connection is shared by every coroutine; the lock keeps a transaction's statements together.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: Path | str,
        migration_files: list[migrations.Migration] | None = None,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> Self:
        """Connect (creating the file and its folder), enable WAL and foreign keys, and apply migrations.

        `synchronous`: FULL (the default) syncs every commit to disk, so a vote the member was told about
        survives a power loss; NORMAL is faster but a power loss may undo the last commits (DATABASE_SYNCHRONOUS).
        """
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit transactions.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            # First, so that a second process opening the file at the same moment waits instead of failing.
            await conn.execute("PRAGMA busy_timeout = 5000")
            # Turning a new file to WAL takes an exclusive lock. When two connections try at the same moment,
            # SQLite answers one "database is locked" at once instead of waiting (waiting could deadlock), so
            # retry for about as long as busy_timeout would wait.
            for attempt in range(100):
                try:
                    await conn.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or attempt == 99:
                        raise
                    await asyncio.sleep(0.05)
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute(f"PRAGMA synchronous = {'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
            version = await migrations.migrate(
                conn, migration_files if migration_files is not None else migrations.discover()
            )
        except BaseException:
            await conn.close()
            raise
        log.info("Opened database %s at schema version %d", path, version)
        return cls(conn)

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the queries inside the block in one write transaction (committed, or rolled back on error)."""
        if _in_transaction.get():
            yield  # already inside one: join it
            return
        async with self._lock:
            token = _in_transaction.set(True)
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                await self._conn.execute("COMMIT")
            finally:
                _in_transaction.reset(token)

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """Yield the connection, waiting for any other task's transaction to finish first."""
        if _in_transaction.get():
            yield self._conn
        else:
            async with self._lock:
                yield self._conn

    # Each helper is one round trip to aiosqlite's worker thread (execute_fetchall runs and exhausts the
    # statement there), instead of separate trips for execute, fetch and close.

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Return every row of one query."""
        async with self._exclusive() as conn:
            return list(await conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Return the first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._exclusive() as conn:
            before = conn.total_changes
            await conn.execute_fetchall(sql, tuple(params))
            return conn.total_changes - before
