"""`python -m bot db copy SOURCE TARGET`: every row of one database into another, SQLite or PostgreSQL either way.

The source is only read (bot/db/copy_source.py). The target is opened like the bot opens it, so it is migrated to
the same schema, and the whole copy is one transaction on it: the rows go in parents first with their ids, each
table is then read back and compared with the source (row count and a checksum), and PostgreSQL's id sequences
move past the copied ids. Anything wrong rolls it all back, leaving the target as it was.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.db import Database, migrations
from bot.db.copy_source import Source, open_source
from bot.db.tables import Dialect, Table, quote, read_tables
from bot.settings import DatabaseTarget

BATCH_ROWS = 1_000
# Bind parameters per INSERT: under SQLite's limit (32,766) and PostgreSQL's (32,767).
MAX_PARAMETERS = 30_000

Progress = Callable[[str], None]


class CopyError(Exception):
    """The copy was refused or failed, and the target was left as it was; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One copied table: how many rows, and the checksum both databases gave for them."""

    name: str
    rows: int
    checksum: str


def row_text(row: Sequence[Any]) -> str:
    """Return one row as the same text whichever backend it was read from.

    JSON writes integers as integers, floats by their repr (exact), text as it is and NULL as null, so 1, 1.0,
    "1" and NULL all differ, and a value containing a separator cannot make two rows look alike.
    """
    return json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))


def order_by(table: Table, dialect: Dialect) -> str:
    """Return the ORDER BY list of a table's primary key, text compared by bytes as SQLite does by default."""
    collate = ' COLLATE "C"' if dialect == "postgresql" else " COLLATE BINARY"
    key = table.primary_key or table.columns
    return ", ".join(quote(c) + (collate if c in table.text_columns else "") for c in key)


def select_sql(table: Table, columns: Sequence[str], dialect: Dialect) -> str:
    """Return the query reading `columns` of every row of `table`, in primary-key order."""
    names = ", ".join(quote(column) for column in columns)
    return f"SELECT {names} FROM {quote(table.name)} ORDER BY {order_by(table, dialect)}"  # noqa: S608 - catalog names


async def insert_rows(db: Database, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows in as few statements as the bind-parameter limit allows."""
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    placeholders = "(" + ", ".join("?" * len(columns)) + ")"
    names = ", ".join(quote(column) for column in columns)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([placeholders] * len(chunk))
        await db.execute(
            f"INSERT INTO {quote(table)} ({names}) VALUES {values}",  # noqa: S608 - catalog names
            [value for row in chunk for value in row],
        )


async def copy_database(
    source: DatabaseTarget,
    target: DatabaseTarget,
    *,
    replace: bool = False,
    progress: Progress = lambda line: None,
    batch_rows: int = BATCH_ROWS,
) -> list[TableCopy]:
    """Copy every row of `source` into `target` in one transaction and return what was copied, table by table.

    Raises CopyError, with the target unchanged, when the copy is refused (the target holds rows and `replace` is
    false, the source's schema is not this bot's) or fails (a database error, a table that differs afterwards).
    """
    if same_database(source, target):
        raise CopyError(f"SOURCE and TARGET are the same database ({source.redacted}); name two different ones.")
    stage = f"SOURCE {source.redacted} cannot be read"  # what failed, should a database error interrupt us
    try:
        async with open_source(source.path, source.url) as reader:
            tables = await _source_tables(reader, source)
            stage = f"TARGET {target.redacted} cannot be opened"
            db = await _open_target(target)
            stage = "The copy failed and the target was left as it was"
            try:
                return await _copy(db, target.backend, reader, tables, replace, progress, batch_rows)
            finally:
                await db.close()
    except database_errors() as exc:
        raise CopyError(f"{stage}: {str(exc).rstrip('.') or type(exc).__name__}.") from exc


def same_database(first: DatabaseTarget, second: DatabaseTarget) -> bool:
    """Return whether two targets name the same SQLite file or the same PostgreSQL database (host, port, name)."""
    if first.path is not None and second.path is not None:
        return first.path.resolve() == second.path.resolve()
    if first.url is not None and second.url is not None:
        one, two = urlsplit(first.url), urlsplit(second.url)
        return (one.hostname, one.port or 5432, one.path, one.query) == (
            two.hostname,
            two.port or 5432,
            two.path,
            two.query,
        )
    return False


def database_errors() -> tuple[type[BaseException], ...]:
    """Return the errors a database can raise: SQLite's, OS errors, and asyncpg's once it has been loaded."""
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)
    asyncpg = sys.modules.get("asyncpg")  # not loaded: no PostgreSQL database was opened, so none of its errors
    if asyncpg is not None:
        errors += (asyncpg.PostgresError, asyncpg.InterfaceError)
    return errors


async def _source_tables(reader: Source, source: DatabaseTarget) -> list[Table]:
    """Check the source is at this bot's schema version and return its tables, parents first."""
    latest = migrations.discover(dialect=reader.dialect)[-1].version
    version = await reader.schema_version()
    if version == 0:
        raise CopyError(f"SOURCE {source.redacted} holds no bot database (it has no schema version).")
    if version != latest:
        raise CopyError(
            f"SOURCE {source.redacted} is at schema version {version} but this bot's is {latest}: "
            + (
                "migrate the source first by starting the bot on it."
                if version < latest
                else "it was written by a newer bot; copy it with that version."
            )
        )
    return await read_tables(reader.fetch, reader.dialect)


async def _open_target(target: DatabaseTarget) -> Database:
    """Open (and migrate) the target as the bot does, naming it in a sentence when it cannot be used."""
    where = target.url if target.url is not None else target.path
    assert where is not None  # noqa: S101 - a DatabaseTarget has one of the two
    try:
        return await Database.open(where)
    except migrations.MigrationError as exc:
        raise CopyError(f"TARGET {target.redacted} cannot be used: {exc}") from None


async def _copy(
    db: Database,
    dialect: Dialect,
    reader: Source,
    tables: list[Table],
    replace: bool,
    progress: Progress,
    batch_rows: int,
) -> list[TableCopy]:
    """Empty (if allowed), fill, verify and finish the target, all in one transaction."""
    theirs = {table.name: table for table in await read_tables(db.fetchall, dialect)}
    _check_same_tables(tables, theirs)
    async with db.transaction():
        occupied = [t.name for t in tables if await db.fetchone(f"SELECT 1 FROM {quote(t.name)} LIMIT 1")]  # noqa: S608
        if occupied and not replace:
            raise CopyError(
                f"TARGET already holds rows (in {', '.join(occupied)}); pass --replace to delete them and copy."
            )
        for table in reversed(tables):  # children first, so no foreign key points at a deleted row
            await db.execute(f"DELETE FROM {quote(table.name)}")  # noqa: S608 - catalog names
        if dialect == "postgresql":
            # The rows are copied as they are: the vote triggers must neither fill pdoom_current (copied itself)
            # nor skip votes of closed rounds. Foreign keys stay checked (they are not USER triggers).
            for table in tables:
                await db.execute(f"ALTER TABLE {quote(table.name)} DISABLE TRIGGER USER")
        copied = [await _copy_table(db, reader, table, progress, batch_rows) for table in tables]
        for table, expected in zip(tables, copied, strict=True):
            await _verify(db, dialect, theirs[table.name], table.columns, expected, batch_rows)
        if dialect == "postgresql":
            for table in tables:
                await db.execute(f"ALTER TABLE {quote(table.name)} ENABLE TRIGGER USER")
            await _restart_identities(db, [theirs[table.name] for table in tables])
    return copied


def _check_same_tables(ours: list[Table], theirs: dict[str, Table]) -> None:
    """Refuse a target whose tables or columns differ from the source's (the schemas should be the same)."""
    names = {table.name for table in ours}
    if names != theirs.keys():
        differ = sorted(names ^ theirs.keys())
        raise CopyError(f"SOURCE and TARGET have different tables ({', '.join(differ)}); the copy needs the same.")
    for table in ours:
        if set(table.columns) != set(theirs[table.name].columns):
            raise CopyError(f"Table {table.name} has different columns in SOURCE and TARGET; the copy needs the same.")


async def _copy_table(db: Database, reader: Source, table: Table, progress: Progress, batch_rows: int) -> TableCopy:
    """Copy one table in batches, ids included, and return its row count and checksum as read from the source."""
    total = int((await reader.fetch(f"SELECT count(*) FROM {quote(table.name)}"))[0][0])  # noqa: S608
    # On SQLite triggers cannot be switched off: what they wrote into this table while its parents were copied
    # (pdoom_current, from each copied vote) goes, and the source's own rows replace it.
    await db.execute(f"DELETE FROM {quote(table.name)}")  # noqa: S608 - catalog names
    digest = hashlib.sha256()
    done = 0
    async for rows in reader.batches(select_sql(table, table.columns, reader.dialect), batch_rows):
        await insert_rows(db, table.name, table.columns, rows)
        for row in rows:
            digest.update(row_text(row).encode() + b"\n")
        done += len(rows)
        if total > batch_rows:
            progress(f"{table.name}: {done:,} / {total:,} rows")
    return TableCopy(table.name, done, digest.hexdigest())


async def _verify(
    db: Database, dialect: Dialect, table: Table, columns: Sequence[str], expected: TableCopy, batch_rows: int
) -> None:
    """Read a copied table back from the target and raise CopyError unless its rows are the source's."""
    digest = hashlib.sha256()
    count = 0
    async for rows in _read_back(db, dialect, table, columns, batch_rows):
        for row in rows:
            digest.update(row_text(row).encode() + b"\n")
        count += len(rows)
    if count != expected.rows or digest.hexdigest() != expected.checksum:
        raise CopyError(
            f"Table {table.name} differs after the copy ({count:,} rows in TARGET, {expected.rows:,} in SOURCE, "
            "or the same count with different values), so nothing was copied."
        )


async def _read_back(
    db: Database, dialect: Dialect, table: Table, columns: Sequence[str], size: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Yield a table's rows in primary-key order, `size` at a time: each batch starts after the last one's key."""
    key = table.primary_key or table.columns
    names = ", ".join(quote(column) for column in [*columns, *key])
    head = f"SELECT {names} FROM {quote(table.name)}"  # noqa: S608 - catalog names
    order = order_by(table, dialect)
    after: list[Any] | None = None
    while True:
        if after is None:
            rows = await db.fetchall(f"{head} ORDER BY {order} LIMIT ?", (size,))
        else:
            keys = ", ".join("?" * len(key))
            condition = f"({order}) > ({keys})"
            rows = await db.fetchall(f"{head} WHERE {condition} ORDER BY {order} LIMIT ?", (*after, size))
        if not rows:
            return
        yield [tuple(row)[: len(columns)] for row in rows]
        after = list(tuple(rows[-1])[len(columns) :])


async def _restart_identities(db: Database, tables: list[Table]) -> None:
    """Make PostgreSQL's generated ids continue after the copied ones (the copy set them explicitly)."""
    for table in tables:
        if table.identity is None:
            continue
        name, column = quote(table.name), quote(table.identity)
        row = await db.fetchone(f"SELECT coalesce(max({column}), 0) + 1 FROM {name}")  # noqa: S608
        assert row is not None  # noqa: S101 - an aggregate always returns a row
        # ALTER ... RESTART is transactional (setval is not): a copy rolled back leaves the sequence alone.
        await db.execute(f"ALTER TABLE {name} ALTER COLUMN {column} RESTART WITH {int(row[0]):d}")


def summary(copied: list[TableCopy]) -> str:
    """Return the table printed after a copy: each table, its rows, and that its checksum matched."""
    width = max([len("table"), *(len(table.name) for table in copied)])
    lines = [f"{'table':<{width}}  {'rows':>10}  checksum"]
    lines += [f"{table.name:<{width}}  {table.rows:>10,}  ok" for table in copied]
    total = sum(table.rows for table in copied)
    lines.append(f"Copied {total:,} rows in {len(copied)} tables; every table matches its source.")
    return "\n".join(lines)
