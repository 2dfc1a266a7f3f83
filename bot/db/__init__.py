"""The bot's storage: one connection (SQLite or PostgreSQL), and each feature's queries in its own module.

`Database.open(path_or_url)` connects and migrates; `db.polls`, `db.prompts`, `db.schedules` and `db.state` hold
one small typed method per query, each returning the domain's dataclasses. SQL lives only in this package, and
nothing outside it knows which backend runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Literal, Self

from bot.db import migrations
from bot.db.base import ClosedOnExit, Storage
from bot.db.connection import Connection
from bot.db.polls import PollQueries
from bot.db.prompts import PromptQueries
from bot.db.schedules import ScheduleQueries
from bot.db.state import StateQueries

__all__ = ["Database", "is_postgres_url"]


def is_postgres_url(target: Path | str) -> bool:
    """Return whether `target` is a PostgreSQL URL rather than a SQLite file path."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Database(ClosedOnExit):
    """A connection to either backend, with each feature's queries."""

    def __init__(self, connection: Storage) -> None:
        self.connection = connection
        self.state = StateQueries(connection)
        self.polls = PollQueries(connection)
        self.prompts = PromptQueries(connection)
        self.schedules = ScheduleQueries(connection)

    @classmethod
    async def open(
        cls,
        target: Path | str,
        migration_files: list[migrations.Migration] | None = None,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        pool_size: int = 10,
    ) -> Self:
        """Connect and migrate: a postgresql:// URL opens PostgreSQL, anything else is a SQLite file path.

        `synchronous` applies to SQLite only, `pool_size` to PostgreSQL only.
        """
        connection: Storage
        if is_postgres_url(target):
            from bot.db.postgres import PostgresConnection  # here: a SQLite-only bot never loads asyncpg

            connection = await PostgresConnection.open(str(target), migration_files, pool_size=pool_size)
        else:
            connection = await Connection.open(target, migration_files, synchronous=synchronous)
        return cls(connection)

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Run the queries inside the block in one transaction; nested calls join the outer one."""
        return self.connection.transaction()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query."""
        return await self.connection.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        """Return the first row of one query, or None."""
        return await self.connection.fetchone(sql, params)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""
        return await self.connection.execute(sql, params)

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        await self.connection.close()
