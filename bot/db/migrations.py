"""Schema migrations: numbered SQL files applied in order, each atomically with its version bump.

Each backend has its own history, `migrations/sqlite/` and `migrations/postgresql/`, numbered alike. This module
finds and checks the files of either, and applies SQLite's; bot/db/postgres.py applies PostgreSQL's.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

import aiosqlite

from bot.errors import StartupError

log = logging.getLogger(__name__)

# The top-level migrations/ folder is shipped inside the built package under this name (pyproject.toml maps it).
PACKAGE = "bot.sql_migrations"
Dialect = Literal["sqlite", "postgresql"]
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its version number, file name and SQL text."""

    version: int
    name: str
    sql: str


class MigrationError(StartupError):
    """The migration files or the database's schema version are not what this bot can run with."""


def migrations_folder(dialect: Dialect = "sqlite") -> Traversable:
    """Return the folder of one backend's migration files, wherever the code runs from.

    Installed (a wheel, or `pip install -e .`), the files are package data of `bot.sql_migrations`. Run from a
    source tree that was not installed, as in the Docker image (/app/bot beside /app/migrations), that package
    does not exist, and the files are in the migrations/ folder beside the `bot` package.
    """
    try:
        return importlib.resources.files(PACKAGE) / dialect
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "migrations" / dialect


def discover(directory: Traversable | None = None, dialect: Dialect = "sqlite") -> list[Migration]:
    """Read `NNNN_name.sql` files, checking there is at least one and the numbering starts at 1 without gaps.

    `directory` defaults to the folder of `dialect`'s migrations.
    """
    folder = directory if directory is not None else migrations_folder(dialect)
    try:
        files = sorted((item for item in folder.iterdir() if item.name.endswith(".sql")), key=lambda i: i.name)
    except OSError:
        files = []
    if not files:
        # Without this, a database would "migrate" to version 0 and every query would fail with "no such table".
        raise MigrationError(
            f"No migration files were found in {folder}: the installation is incomplete, reinstall the bot."
        )
    migrations = []
    for item in files:
        match = _FILE_NAME.match(item.name)
        if not match:
            raise MigrationError(f"Migration file {item.name} must be named like 0001_short_name.sql.")
        sql = item.read_text(encoding="utf-8")
        migrations.append(Migration(int(match.group(1)), item.name, sql))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"Migration {migration.name} should be number {expected:04d}: no gaps allowed.")
        if not migration.sql.lstrip().startswith("-- Reason:"):
            raise MigrationError(f"Migration {migration.name} must start with a '-- Reason:' comment.")
    return migrations


def split_statements(sql: str) -> tuple[str, ...]:
    """Split a script into single statements, using SQLite's own tokenizer to know where one ends.

    `sqlite3.complete_statement` understands strings, comments and trigger bodies, so a ';' inside them does
    not end a statement. Text after the last complete statement is kept (comments run as a no-op; anything else
    fails as a syntax error when applied).
    """
    statements = []
    start = 0
    for position, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : position + 1]):
            statements.append(sql[start : position + 1].strip())
            start = position + 1
    if sql[start:].strip():
        statements.append(sql[start:].strip())
    return tuple(statements)


async def schema_version(conn: aiosqlite.Connection) -> int:
    """Return the version stored in `PRAGMA user_version`."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def newer_database(current: int, latest: int, elsewhere: str = "point DATABASE_PATH at another file") -> MigrationError:
    """Return the error for a database whose schema is newer than this bot's migrations."""
    return MigrationError(
        f"The database is at schema version {current}, but this bot only knows versions up to {latest}: "
        f"it was written by a newer version of the bot. Upgrade the bot, or {elsewhere}."
    )


async def migrate(conn: aiosqlite.Connection, migrations: list[Migration]) -> int:
    """Apply every pending migration and return the resulting schema version.

    Each migration runs in its own `BEGIN IMMEDIATE` transaction that first reads the version again, then runs
    the file's statements and sets `PRAGMA user_version`, so the schema change and the version bump commit
    together or not at all, and two processes migrating one file at once cannot both apply it: the second
    waits (busy_timeout) for the first to commit, then sees the new version and skips it. The statements are
    executed one by one because `executescript` would commit the open transaction before running.
    `conn` must be in autocommit mode (isolation_level=None), so BEGIN and COMMIT are ours.
    """
    latest = migrations[-1].version if migrations else 0
    current = await schema_version(conn)
    if current > latest:
        raise newer_database(current, latest)
    for migration in migrations[current:]:
        try:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                current = await schema_version(conn)
                if current > latest:
                    raise newer_database(current, latest)
                if current >= migration.version:
                    await conn.execute("ROLLBACK")
                    continue  # another process applied it while we waited for the write lock
                for statement in split_statements(migration.sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {migration.version:d}")
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise MigrationError(f"Migration {migration.name} failed and was rolled back: {exc}") from exc
        log.info("Applied migration %s", migration.name)
    return latest
