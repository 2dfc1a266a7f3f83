"""The one database module: a single aiosqlite connection and one small typed method per query."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot import migrations

log = logging.getLogger(__name__)

# Set while the current task holds the write lock inside `transaction()`, so queries it runs don't wait on it.
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)


class Database:
    """The bot's SQLite database. Open it with `Database.open(path)`, which also migrates it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        # One connection is shared by every coroutine; the lock keeps a transaction's statements together.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, migration_files: list[migrations.Migration] | None = None) -> Self:
        """Connect (creating the file and its folder), enable WAL and foreign keys, and apply migrations."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit transactions.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("PRAGMA synchronous = NORMAL")
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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

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

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._exclusive() as conn, conn.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        async with self._exclusive() as conn:
            await conn.execute(sql, tuple(params))

    # --- meta: bot-wide key/value state ---

    async def get_meta(self, key: str) -> str | None:
        """Return the value stored under `key`, or None."""
        row = await self._fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any previous value."""
        await self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
