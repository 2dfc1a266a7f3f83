"""Schema migrations: numbered SQL files applied in order, each atomically with its version bump."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bot.errors import StartupError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its version number, file path and SQL text."""

    version: int
    path: Path
    sql: str


class MigrationError(StartupError):
    """The migration files or the database's schema version are not what this bot can run with."""


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read `NNNN_name.sql` files, checking the numbering starts at 1 and has no gaps."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"Migration file {path.name} must be named like 0001_short_name.sql.")
        migrations.append(Migration(int(match.group(1)), path, path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(f"Migration {migration.path.name} should be number {expected:04d}: no gaps allowed.")
        if not migration.sql.lstrip().startswith("-- Reason:"):
            raise MigrationError(f"Migration {migration.path.name} must start with a '-- Reason:' comment.")
    return migrations


async def schema_version(conn: aiosqlite.Connection) -> int:
    """Return the version stored in `PRAGMA user_version`."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, migrations: list[Migration]) -> int:
    """Apply every pending migration and return the resulting schema version.

    Each file runs as one script `BEGIN; <file>; PRAGMA user_version = N; COMMIT;`, so the schema change and
    the version bump commit together or not at all. (`executescript` would commit an open transaction
    before running, which is why BEGIN is inside the script rather than issued separately.)
    """
    current = await schema_version(conn)
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise MigrationError(
            f"The database is at schema version {current}, but this bot only knows versions up to {latest}: "
            "it was written by a newer version of the bot. Upgrade the bot, or point DATABASE_PATH at another file."
        )
    for migration in migrations[current:]:
        script = f"BEGIN;\n{migration.sql}\n;\nPRAGMA user_version = {migration.version};\nCOMMIT;"
        try:
            await conn.executescript(script)
        except Exception as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise MigrationError(f"Migration {migration.path.name} failed and was rolled back: {exc}") from exc
        log.info("Applied migration %s", migration.path.name)
    return latest
