"""SQLite migrations apply in order, atomically, and a newer database is refused (PostgreSQL's: test_postgres.py)."""

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from bot.db import Database, migrations

pytestmark = pytest.mark.sqlite_only  # these read the SQLite file itself (sqlite_master, PRAGMA user_version)


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


def test_no_migration_files_is_refused(tmp_path: Path) -> None:
    """An empty migrations folder (an incomplete installation) stops start-up instead of "migrating" nothing."""
    directory = write_migrations(tmp_path / "empty", {})
    with pytest.raises(migrations.MigrationError, match="No migration files were found"):
        migrations.discover(directory)


def test_statements_split_where_sqlite_says_they_end() -> None:
    """Semicolons inside strings, comments and trigger bodies do not end a statement."""
    sql = (
        "-- Reason: a; b.\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\n"
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN UPDATE t SET x = 'c;'; DELETE FROM t WHERE 0; END;"
        " INSERT INTO t VALUES ('d');\n-- trailing note\n"
    )
    assert migrations.split_statements(sql) == (
        "-- Reason: a; b.\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN UPDATE t SET x = 'c;'; DELETE FROM t WHERE 0; END;",
        "INSERT INTO t VALUES ('d');",
        "-- trailing note",
    )


def test_two_processes_migrating_one_new_file_both_succeed(tmp_path: Path) -> None:
    """Two connections migrating a new file at the same moment both succeed (10 times), at the newest version."""
    files = migrations.discover()

    def open_and_close(path: Path, start: threading.Barrier, errors: list[BaseException]) -> None:
        async def run() -> None:
            start.wait()
            await (await Database.open(path, files)).close()

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    expected_tables = None
    for attempt in range(10):
        path = tmp_path / f"race{attempt}.sqlite3"
        # Each thread has its own event loop, aiosqlite connection and worker thread, like two processes.
        start, errors = threading.Barrier(2), list[BaseException]()
        threads = [threading.Thread(target=open_and_close, args=(path, start, errors)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [], f"attempt {attempt}: {errors}"
        assert version_of(path) == files[-1].version
        tables = schema_of(path)
        expected_tables = expected_tables or tables
        assert tables == expected_tables
