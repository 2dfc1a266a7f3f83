"""Migrations apply in order, atomically, and a newer database is refused."""

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot import migrations
from bot.db import Database


def schema_of(path: Path) -> list[tuple[str, str]]:
    """Return every schema object's name and SQL, for before/after comparisons."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def version_of(path: Path) -> int:
    """Return the file's PRAGMA user_version."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    """Write migration files into `directory` and return it."""
    directory.mkdir()
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def test_every_migration_applies_to_an_empty_database(tmp_path: Path) -> None:
    """All project migrations apply to a new file, leaving user_version at the newest, WAL and foreign keys on."""
    files = migrations.discover()
    assert files, "the project has at least one migration"
    path = tmp_path / "fresh.sqlite3"
    database = await Database.open(path)
    await database.close()
    assert version_of(path) == files[-1].version
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {"meta"}


async def test_reopening_applies_nothing_new(tmp_path: Path) -> None:
    """Opening an up-to-date database twice leaves the schema unchanged."""
    path = tmp_path / "twice.sqlite3"
    await (await Database.open(path)).close()
    before = schema_of(path)
    await (await Database.open(path)).close()
    assert schema_of(path) == before


async def test_a_failing_migration_rolls_back_completely(tmp_path: Path) -> None:
    """A migration that fails halfway leaves the schema and version exactly as they were before it."""
    directory = write_migrations(
        tmp_path / "migrations",
        {
            "0001_first.sql": "-- Reason: a first table.\nCREATE TABLE a (id INTEGER PRIMARY KEY);",
            "0002_broken.sql": (
                "-- Reason: half works, then fails.\n"
                "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"
                "ALTER TABLE a ADD COLUMN note TEXT;\n"
                "INSERT INTO a (id) VALUES (1);\n"
                "CREATE TABLE c (oops NOT VALID SQL;\n"
            ),
        },
    )
    path = tmp_path / "db.sqlite3"
    first = migrations.discover(directory)[:1]
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await migrations.migrate(conn, first)
    before = schema_of(path)

    with pytest.raises(migrations.MigrationError, match=r"0002_broken\.sql failed and was rolled back"):
        await Database.open(path, migrations.discover(directory))

    assert schema_of(path) == before
    assert version_of(path) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM a").fetchone()[0] == 0


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    """A database whose version is beyond the newest migration stops start-up with a clear sentence."""
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(migrations.MigrationError, match="written by a newer version of the bot"):
        await Database.open(path)
    assert version_of(path) == 999


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"0001_a.sql": "-- Reason: x\n", "0003_c.sql": "-- Reason: y\n"}, "should be number 0002"),
        ({"1_bad_name.sql": "-- Reason: x\n"}, "must be named like"),
        ({"0001_no_header.sql": "CREATE TABLE t (x);"}, "-- Reason:"),
    ],
)
def test_discover_rejects_badly_numbered_or_undocumented_files(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    """Gaps, odd names and a missing Reason header are caught before anything runs."""
    directory = write_migrations(tmp_path / "m", files)
    with pytest.raises(migrations.MigrationError, match=problem):
        migrations.discover(directory)
