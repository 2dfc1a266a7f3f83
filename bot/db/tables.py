"""The bot's tables as a database describes them: columns, primary key, parents, in the order rows can be inserted.

Read from the database itself rather than listed by hand, so a table added by a later migration is copied (and
checked) by `python -m bot db copy` without anyone remembering to add it. Either backend's catalog gives the same
description, because both migration histories create the same tables and columns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Dialect = Literal["sqlite", "postgresql"]
Fetch = Callable[[str, Iterable[Any]], Awaitable[list[Any]]]

# The version bookkeeping is not data: each side keeps its own (SQLite in PRAGMA user_version).
BOOKKEEPING = frozenset({"schema_version"})


@dataclass(frozen=True, slots=True)
class Table:
    """One table: its columns in order, its primary key, the tables its foreign keys point at, its identity column."""

    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    text_columns: frozenset[str]  # columns holding text, which must sort by bytes on both backends
    parents: frozenset[str]
    identity: str | None = None  # PostgreSQL's generated id column, whose sequence must follow the copied ids


def quote(name: str) -> str:
    """Return `name` as a quoted SQL identifier (names come from the catalog, never from a user)."""
    return '"' + name.replace('"', '""') + '"'


async def read_tables(fetch: Fetch, dialect: Dialect) -> list[Table]:
    """Describe every bot table of the database, parents before children."""
    if dialect == "sqlite":
        tables = [await _sqlite_table(fetch, name) for name in await _sqlite_names(fetch)]
    else:
        tables = [await _postgres_table(fetch, name) for name in await _postgres_names(fetch)]
    return dependency_order(tables)


def dependency_order(tables: Iterable[Table]) -> list[Table]:
    """Order tables so each comes after every table it references (ties by name, so the order is stable)."""
    remaining = {table.name: table for table in tables}
    ordered: list[Table] = []
    while remaining:
        ready = sorted(name for name, table in remaining.items() if not (table.parents - {name}) & remaining.keys())
        if not ready:
            raise ValueError(f"the foreign keys of {', '.join(sorted(remaining))} form a cycle")
        ordered += [remaining.pop(name) for name in ready]
    return ordered


async def _sqlite_names(fetch: Fetch) -> list[str]:
    rows = await fetch("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'", ())
    return [row[0] for row in rows if row[0] not in BOOKKEEPING]


async def _sqlite_table(fetch: Fetch, name: str) -> Table:
    columns = await fetch("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", (name,))
    key = sorted((row[2], row[0]) for row in columns if row[2])  # pk: the column's place in the key, from 1
    parents = await fetch('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', (name,))
    return Table(
        name=name,
        columns=tuple(row[0] for row in columns),
        primary_key=tuple(column for _, column in key),
        text_columns=frozenset(row[0] for row in columns if row[1].upper() == "TEXT"),
        parents=frozenset(row[0] for row in parents),
    )


async def _postgres_names(fetch: Fetch) -> list[str]:
    rows = await fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        (),
    )
    return [row[0] for row in rows if row[0] not in BOOKKEEPING]


async def _postgres_table(fetch: Fetch, name: str) -> Table:
    columns = await fetch(
        "SELECT column_name, data_type, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (name,),
    )
    key = await fetch(
        "SELECT k.column_name FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema "
        "AND k.constraint_name = c.constraint_name "
        "WHERE c.table_schema = current_schema() AND c.table_name = ? AND c.constraint_type = 'PRIMARY KEY' "
        "ORDER BY k.ordinal_position",
        (name,),
    )
    parents = await fetch(
        "SELECT DISTINCT p.relname FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid "
        "WHERE c.contype = 'f' AND c.conrelid = to_regclass(?)",
        (quote(name),),
    )
    identity = [row[0] for row in columns if row[2] == "YES"]
    return Table(
        name=name,
        columns=tuple(row[0] for row in columns),
        primary_key=tuple(row[0] for row in key),
        text_columns=frozenset(row[0] for row in columns if row[1] == "text"),
        parents=frozenset(row[0] for row in parents),
        identity=identity[0] if identity else None,
    )
