"""The PostgreSQL connection: an asyncpg pool behind the same interface as the SQLite `Connection`.

The query modules write SQLite-style SQL with `?` placeholders; each SQL string is translated once to asyncpg's
`$1, $2, ...`. A transaction holds one pooled connection in a context variable, so nested `transaction()` calls
and the queries inside it use that connection; a query outside a transaction borrows one for itself.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, Self

import asyncpg

from bot.db import migrations
from bot.db.base import ClosedOnExit

log = logging.getLogger(__name__)

# Advisory lock keys (any fixed 64-bit numbers; PostgreSQL scopes them to the database).
MIGRATION_LOCK = 0x616C69676E_01  # held while migrating, so processes starting together migrate once
WRITE_LOCK = 0x616C69676E_02  # held by each transaction, so they run one at a time as on SQLite

# The pooled connection of the transaction the current task is in, with the PostgresConnection that owns it.
_held: contextvars.ContextVar[tuple[PostgresConnection, Any] | None] = contextvars.ContextVar(
    "postgres_transaction", default=None
)


@lru_cache(maxsize=1024)
def numbered_placeholders(sql: str) -> str:
    """Turn SQLite's `?` placeholders into PostgreSQL's `$1, $2, ...`.

    Our SQL never has a '?' inside a string literal, quoted name or `--` comment; one there is refused rather
    than guessed at, so a future query cannot be silently mistranslated.
    """
    parts = []
    number = 0
    closing: str | None = None  # what ends the quote or comment we are in
    for position, char in enumerate(sql):
        if closing is not None:
            if char == "?":
                raise ValueError(f"a '?' inside quotes or a comment is not a placeholder: {sql!r}")
            if char == closing:
                closing = None
        elif char in "'\"":
            closing = char
        elif char == "-" and sql.startswith("--", position):
            closing = "\n"
        elif char == "?":
            number += 1
            parts.append(f"${number}")
            continue
        parts.append(char)
    return "".join(parts)


def _arguments(params: Iterable[Any]) -> list[Any]:
    """Return the parameters as the schema stores them: flags are INTEGER 0/1 columns, as on SQLite."""
    return [int(value) if isinstance(value, bool) else value for value in params]


def changed_rows(status: str) -> int:
    """Return the row count of a command status such as "UPDATE 3" or "INSERT 0 1" (0 for "CREATE TABLE")."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class PostgresConnection(ClosedOnExit):
    """The PostgreSQL connection pool. Open it with `open(url)` (in `Database.open`), which also migrates it."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(
        cls, url: str, migration_files: list[migrations.Migration] | None = None, *, pool_size: int = 10
    ) -> Self:
        """Connect a pool of up to `pool_size` connections to `url` and apply pending migrations."""
        # min_size=1: one connection is made now, so a wrong URL fails here, at start-up.
        pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        try:
            async with pool.acquire() as conn:
                files = migration_files if migration_files is not None else migrations.discover(dialect="postgresql")
                version = await migrate(conn, files)
        except BaseException:
            await pool.close()
            raise
        log.info("Opened the PostgreSQL database at schema version %d", version)
        return cls(pool)

    async def close(self) -> None:
        """Close every pooled connection; safe to call twice."""
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the queries inside the block in one transaction (committed, or rolled back on error).

        Transactions take a database-wide advisory lock first, so they run one at a time, as SQLite's single
        writer does: the queries were written for that (e.g. opening a round checks none is open, then inserts).
        """
        held = _held.get()
        if held is not None and held[0] is self:
            yield  # already inside one: join it
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            token = _held.set((self, conn))
            try:
                yield
            finally:
                _held.reset(token)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """Yield the current transaction's connection, or borrow one from the pool for a single statement."""
        held = _held.get()
        if held is not None and held[0] is self:
            yield held[1]
        else:
            async with self._pool.acquire() as conn:
                yield conn

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query (asyncpg Records: by name or position, with `keys()`)."""
        async with self._connection() as conn:
            return list(await conn.fetch(numbered_placeholders(sql), *_arguments(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        """Return the first row of one query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._connection() as conn:
            return changed_rows(await conn.execute(numbered_placeholders(sql), *_arguments(params)))


async def schema_version(conn: Any) -> int:
    """Return the version stored in the `schema_version` table (0 for a new database)."""
    version = await conn.fetchval("SELECT max(version) FROM schema_version")
    return int(version) if version is not None else 0


async def migrate(conn: Any, files: list[migrations.Migration]) -> int:
    """Apply every pending migration and return the resulting schema version.

    Each migration runs in its own transaction together with its version bump, after taking an advisory lock
    and reading the version again: processes starting at the same moment wait for each other, and each
    migration is applied exactly once. A file runs as one script (PostgreSQL splits it, `$$` bodies included).
    """
    latest = files[-1].version if files else 0
    current = await _locked_version(conn, latest)
    for migration in files[current:]:
        try:
            async with conn.transaction():
                if await _locked_version(conn, latest) >= migration.version:
                    continue  # another process applied it while we waited for the lock
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", migration.version)
        except asyncpg.PostgresError as exc:
            raise migrations.MigrationError(f"Migration {migration.name} failed and was rolled back: {exc}") from exc
        log.info("Applied migration %s", migration.name)
    return latest


async def _locked_version(conn: Any, latest: int) -> int:
    """Take the migration lock (until the transaction ends) and return the version, refusing a newer database."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        # One row per applied migration: a record of when each was applied, and never an UPDATE to race on.
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await schema_version(conn)
    if current > latest:
        raise migrations.newer_database(current, latest, "point DATABASE_URL at another database")
    return current
