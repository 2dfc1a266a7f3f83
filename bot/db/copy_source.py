"""The database a copy reads from: opened read-only, and read as one consistent snapshot.

A bot may still be running on the source: SQLite is read inside one read transaction (WAL keeps its snapshot while
the bot writes), PostgreSQL inside one READ ONLY REPEATABLE READ transaction, so every table is read as of one moment
and nothing is ever written to the source.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.db.tables import Dialect


class Source(Protocol):
    """What a copy needs from the source: queries with `?` placeholders, and big results in batches."""

    dialect: Dialect

    async def fetch(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query."""
        ...

    def batches(self, sql: str, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Yield the rows of one query, `size` at a time, as tuples."""
        ...

    async def schema_version(self) -> int:
        """Return the schema version the source's migrations reached (0 if it has none)."""
        ...


class SqliteSource:
    """A SQLite file opened read-only (`mode=ro`: SQLite itself refuses any write), inside one read transaction."""

    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query."""
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def batches(self, sql: str, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Yield the rows of one query, `size` at a time, as tuples."""
        async with self._conn.execute(sql) as cursor:
            while rows := await cursor.fetchmany(size):
                yield [tuple(row) for row in rows]

    async def schema_version(self) -> int:
        """Return PRAGMA user_version, where the migrations keep it."""
        rows = await self.fetch("PRAGMA user_version")
        return int(rows[0][0])


class PostgresSource:
    """A PostgreSQL database read in one READ ONLY, REPEATABLE READ transaction (the server refuses any write)."""

    dialect: Dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query."""
        from bot.db.postgres import numbered_placeholders

        return list(await self._conn.fetch(numbered_placeholders(sql), *params))

    async def batches(self, sql: str, size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Yield the rows of one query, `size` at a time, as tuples (a server-side cursor: memory stays flat)."""
        cursor = await self._conn.cursor(sql)
        while rows := await cursor.fetch(size):
            yield [tuple(row) for row in rows]

    async def schema_version(self) -> int:
        """Return the newest version in the schema_version table (0 without one)."""
        exists = await self.fetch("SELECT to_regclass('schema_version') IS NOT NULL")
        if not exists[0][0]:
            return 0
        rows = await self.fetch("SELECT max(version) FROM schema_version")
        return int(rows[0][0] or 0)


@asynccontextmanager
async def open_source(path: Path | None, url: str | None) -> AsyncIterator[Source]:
    """Open the SQLite file at `path`, or the PostgreSQL database at `url`, read-only, as one snapshot."""
    if url is not None:
        async with _postgres(url) as source:
            yield source
        return
    assert path is not None  # noqa: S101 - one of the two is always given
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    conn = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("BEGIN")  # deferred: the snapshot starts at the first read and lasts until the end
        yield SqliteSource(conn)
        await conn.execute("ROLLBACK")
    finally:
        await conn.close()


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[Source]:
    import asyncpg  # here: a SQLite-only copy never loads it

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            yield PostgresSource(conn)
    finally:
        await conn.close()
