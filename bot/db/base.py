"""What the query modules need from a connection, whichever backend (SQLite or PostgreSQL) runs underneath."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Protocol, Self


class ClosedOnExit:
    """`async with` closes it: the context-manager shape the connections and `Database` share."""

    async def close(self) -> None:
        """Close it; safe to call twice."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class RollBack(Exception):
    """Raised inside `transaction()` to undo it quietly."""


class Storage(Protocol):
    """The connection interface the query modules use: SQL with `?` placeholders and ISO-8601 text timestamps.

    Rows come back as sqlite3.Row or asyncpg.Record: both read by column name or position and have `keys()`.
    """

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Run the queries inside the block in one transaction; nested calls join the outer one."""
        ...

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Return every row of one query."""
        ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        """Return the first row of one query, or None."""
        ...

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""
        ...

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        ...
