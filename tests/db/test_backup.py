"""Backups, restores and checks of real SQLite files (bot/db/backup.py, bot/db/check.py); `db check` on PostgreSQL."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database, migrations
from bot.db import backup as backup_module
from bot.db.backup import (
    BackupError,
    backup_name,
    backup_sqlite,
    latest_backup,
    latest_schema_version,
    list_backups,
    restore_sqlite,
)
from bot.db.check import CheckError, check_database
from bot.run import database_lock
from bot.settings import DatabaseTarget

NOW = datetime(2026, 12, 1, 23, 30, 12, tzinfo=UTC)
LATEST = latest_schema_version()


async def bot_database(path: Path, **meta: str) -> Path:
    """Create a migrated bot database at `path` holding the given meta rows."""
    async with await Database.open(path) as db:
        for key, value in meta.items():
            await db.state.set_meta(key, value)
    return path


def meta_rows(path: Path) -> dict[str, str]:
    """Return the meta table of the SQLite file at `path`."""
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def integrity(path: Path) -> list[str]:
    """Return what PRAGMA integrity_check says of the file at `path`."""
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def damage(path: Path) -> None:
    """Make the file at `path` fail integrity_check: an index whose entries no longer match its table."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE scratch (a INTEGER, b INTEGER)")
        conn.execute("CREATE INDEX scratch_a ON scratch (a)")
        conn.executemany("INSERT INTO scratch VALUES (?, ?)", [(i, -i) for i in range(50)])
        conn.commit()
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_schema SET sql = 'CREATE INDEX scratch_a ON scratch (b)' WHERE name = 'scratch_a'")
        conn.commit()
    finally:
        conn.close()
    assert integrity(path) != ["ok"]


def set_schema_version(path: Path, version: int) -> None:
    """Write `version` into the file's PRAGMA user_version, as a migration would."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {version:d}")


# --- backup ---


async def test_a_backup_is_a_checked_dated_copy_taken_beside_a_writer(tmp_path: Path) -> None:
    """Committed rows are in it, a writer's uncommitted ones are not, and the writer is not held up; one file only."""
    source = await bot_database(tmp_path / "bot.sqlite3", committed="yes")
    async with await Database.open(source):  # the bot has it open, in WAL mode
        writer = sqlite3.connect(source, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO meta (key, value) VALUES ('uncommitted', 'no')")
            made = backup_sqlite(source, now=NOW)
            writer.execute("COMMIT")
        finally:
            writer.close()
    assert made.path == tmp_path / "backups" / f"bot-2026-12-01T233012Z-v{LATEST:04d}.sqlite3"
    assert made.path.name == backup_name(NOW, LATEST)
    assert (made.taken_at, made.schema_version, made.automatic) == (NOW, LATEST, False)
    assert made.size_bytes == made.path.stat().st_size > 0
    assert os.listdir(made.path.parent) == [made.path.name]  # no temporary file, no -wal beside it
    assert meta_rows(made.path) == {"committed": "yes"}
    assert integrity(made.path) == ["ok"]
    assert meta_rows(source) == {"committed": "yes", "uncommitted": "no"}


async def test_a_backup_goes_to_a_named_file_or_folder_and_never_overwrites(tmp_path: Path) -> None:
    """A name is used as given; a new folder is made, the backup dated inside it; an existing file is refused."""
    source = await bot_database(tmp_path / "bot.sqlite3", a="1")
    named = backup_sqlite(source, tmp_path, name="before-upgrade.sqlite3", now=NOW)
    assert named.path == tmp_path / "before-upgrade.sqlite3" and meta_rows(named.path) == {"a": "1"}
    dated = backup_sqlite(source, tmp_path / "elsewhere", now=NOW)
    assert dated.path == tmp_path / "elsewhere" / backup_name(NOW, LATEST)
    with pytest.raises(BackupError) as refused:
        backup_sqlite(source, tmp_path / "elsewhere", now=NOW)
    assert str(refused.value) == f"{dated.path} already exists; name a new file, or try again in a second."
    with pytest.raises(BackupError, match="already exists; name a new file, or a folder to get a dated name"):
        backup_sqlite(source, tmp_path, name=named.path.name, now=NOW)
    assert meta_rows(named.path) == {"a": "1"}
    assert sorted(os.listdir(tmp_path / "elsewhere")) == [dated.path.name]


async def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while syncing the copy: one sentence with the reason, and the folder is as it was."""
    source = await bot_database(tmp_path / "bot.sqlite3")
    folder = tmp_path / "backups"
    folder.mkdir()

    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backup_module, "_fsync", full)
    with pytest.raises(BackupError) as failed:
        backup_sqlite(source, folder, now=NOW)
    assert str(failed.value) == (
        f"The backup of {source} could not be written to {folder / backup_name(NOW, LATEST)} (No space left on device)."
    )
    assert os.listdir(folder) == []


async def test_a_damaged_database_is_not_backed_up(tmp_path: Path) -> None:
    """integrity_check fails on the copy: refused with what is damaged, and no file is left in the folder."""
    source = await bot_database(tmp_path / "bot.sqlite3")
    damage(source)
    with pytest.raises(BackupError) as refused:
        backup_sqlite(source, now=NOW)
    message = str(refused.value)
    assert message.startswith(f"The copy of {source} fails SQLite's integrity check (")
    assert "scratch_a" in message and message.endswith(
        "restore an earlier backup, or see the README on recovering a damaged database."
    )
    assert os.listdir(tmp_path / "backups") == []


@pytest.mark.parametrize(
    ("contents", "expected"),
    [(None, "There is no database at"), (b"not sqlite" * 100, "is not a SQLite database, or it is damaged")],
)
def test_a_missing_or_foreign_file_is_named(tmp_path: Path, contents: bytes | None, expected: str) -> None:
    """No file, or a file that is not SQLite: one sentence, nothing written."""
    source = tmp_path / "bot.sqlite3"
    if contents is not None:
        source.write_bytes(contents)
    with pytest.raises(BackupError, match=expected):
        backup_sqlite(source, now=NOW)
    assert list_backups(tmp_path / "backups") == []


def test_latest_backup_lists_only_backup_names(tmp_path: Path) -> None:
    """Manual and automatic backups are found, newest last; other files and folders are ignored."""
    names = [
        "bot-2026-11-30T120000Z-v0005.sqlite3",
        "bot-2026-12-01T090000Z-v0006-auto.sqlite3",
        "bot-2026-12-01T100000Z-v0006.sqlite3",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / ".bot-backup-123.partial").write_bytes(b"")
    (tmp_path / "bot-2026-12-02T000000Z-v0006.sqlite3").mkdir()
    assert [b.path.name for b in list_backups(tmp_path)] == names
    newest = latest_backup(tmp_path)
    assert newest is not None
    assert (newest.taken_at, newest.size_bytes, newest.schema_version) == (datetime(2026, 12, 1, 10, tzinfo=UTC), 10, 6)
    assert [b.automatic for b in list_backups(tmp_path)] == [False, True, False]
    assert latest_backup(tmp_path / "missing") is None


# --- restore ---


async def test_restore_is_refused_while_a_bot_holds_the_database(tmp_path: Path) -> None:
    """The single-instance lock is held: nothing is touched, and the sentence names the holder's pid."""
    database = await bot_database(tmp_path / "bot.sqlite3", current="yes")
    made = backup_sqlite(await bot_database(tmp_path / "other.sqlite3", other="yes"), now=NOW)
    with database_lock(database), pytest.raises(BackupError) as refused:
        restore_sqlite(made.path, database, now=NOW)
    assert str(refused.value) == (
        f"A bot process (pid {os.getpid()}) is using {database}; stop it before restoring, or it would keep writing "
        "to the database being replaced."
    )
    assert meta_rows(database) == {"current": "yes"}
    assert not [name for name in os.listdir(tmp_path) if "replaced" in name or name.endswith(".partial")]


async def test_restore_sets_the_replaced_database_and_its_wal_aside(tmp_path: Path) -> None:
    """A crashed bot's database with commits still in its -wal: they move aside with it, never into the restore."""
    made = backup_sqlite(await bot_database(tmp_path / "old.sqlite3", restored="yes"), now=NOW)
    live = await bot_database(tmp_path / "live.sqlite3")
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # the commit stays in the -wal, as after a crash
        writer.execute("INSERT INTO meta (key, value) VALUES ('only-in-wal', 'yes')")
        database = tmp_path / "bot.sqlite3"
        for suffix in ("", "-wal"):  # the files as a killed process leaves them
            shutil.copyfile(f"{live}{suffix}", f"{database}{suffix}")
    finally:
        writer.close()
    assert Path(f"{database}-wal").stat().st_size > 0

    restored = restore_sqlite(made.path, database, now=NOW)

    aside = tmp_path / "bot.sqlite3.replaced-20261201T233012Z"
    assert (restored.database, restored.replaced) == (database, aside)
    assert (restored.schema_version, restored.latest_version) == (LATEST, LATEST)
    assert not Path(f"{database}-wal").exists()
    assert meta_rows(database) == {"restored": "yes"}
    assert integrity(database) == ["ok"]
    assert meta_rows(aside) == {"only-in-wal": "yes"}  # the set-aside pair folded into one file
    assert not Path(f"{aside}-wal").exists()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]
    async with await Database.open(database) as db:  # the bot starts on it
        assert await db.state.get_meta("restored") == "yes"


async def test_restore_refuses_a_backup_from_a_newer_bot(tmp_path: Path) -> None:
    """A schema version above this bot's latest is refused with the sentence; the database stays."""
    database = await bot_database(tmp_path / "bot.sqlite3", current="yes")
    made = backup_sqlite(await bot_database(tmp_path / "newer.sqlite3"), now=NOW)
    set_schema_version(made.path, LATEST + 1)
    with pytest.raises(BackupError) as refused:
        restore_sqlite(made.path, database, now=NOW)
    assert str(refused.value) == (
        f"The backup {made.path} is at schema version {LATEST + 1}, but this bot only knows versions up to {LATEST}: "
        "a newer version of the bot wrote it. Upgrade the bot, then restore it."
    )
    assert meta_rows(database) == {"current": "yes"}
    assert not [name for name in os.listdir(tmp_path) if "replaced" in name or name.endswith(".partial")]


async def test_restore_accepts_an_older_backup_which_the_bot_migrates(tmp_path: Path) -> None:
    """A backup at schema version 3 is restored as it is; opening it (as the bot starts) migrates it to the latest."""
    older = tmp_path / "older.sqlite3"
    async with await Database.open(older, migrations.discover()[:3]) as db:
        await db.state.set_meta("from", "v3")
    made = backup_sqlite(older, now=NOW)
    assert made.path.name == "bot-2026-12-01T233012Z-v0003.sqlite3"
    database = tmp_path / "fresh" / "bot.sqlite3"  # nothing there yet: nothing to set aside
    restored = restore_sqlite(made.path, database, now=NOW)
    assert (restored.schema_version, restored.latest_version, restored.replaced) == (3, LATEST, None)
    async with await Database.open(database) as db:
        assert await db.state.get_meta("from") == "v3"
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST


async def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    """A backup that fails integrity_check is refused and the database is untouched."""
    database = await bot_database(tmp_path / "bot.sqlite3", current="yes")
    made = backup_sqlite(await bot_database(tmp_path / "other.sqlite3"), now=NOW)
    damage(made.path)
    with pytest.raises(BackupError, match=f"The backup {made.path} fails SQLite's integrity check"):
        restore_sqlite(made.path, database, now=NOW)
    assert meta_rows(database) == {"current": "yes"}


# --- check ---


async def test_check_reports_integrity_version_size_and_rows(tmp_path: Path) -> None:
    """A sound database: ok, this bot's version, its size, a row count per table by name."""
    path = await bot_database(tmp_path / "bot.sqlite3", a="1", b="2")
    report = await check_database(DatabaseTarget("sqlite", path=path))
    assert report.ok and report.problems == []
    assert (report.integrity, report.schema_version, report.latest_version) == (["ok"], LATEST, LATEST)
    assert report.size_bytes == path.stat().st_size
    tables = dict(report.tables)
    assert tables["meta"] == 2 and tables["pdoom_votes"] == 0
    assert [name for name, _ in report.tables] == sorted(tables)
    lines = report.lines()
    assert lines[0] == f"Database:       {path} (SQLite)"
    assert lines[1:3] == ["Integrity:      ok", f"Schema version: {LATEST} (this bot's latest: {LATEST})"]
    assert any(line.split() == ["meta", "2"] for line in lines) and lines[-1] == "Result:         ok"


async def test_check_names_damage_a_newer_schema_and_a_missing_file(tmp_path: Path) -> None:
    """Each problem is one sentence in `problems` (exit 1); a file that is not there cannot be checked at all."""
    damaged = await bot_database(tmp_path / "damaged.sqlite3")
    damage(damaged)
    report = await check_database(DatabaseTarget("sqlite", path=damaged))
    assert not report.ok and report.integrity[0] != "ok" and "DAMAGED" in "\n".join(report.lines())
    assert report.problems == [
        f"{damaged} fails SQLite's integrity check: it is damaged; restore a backup taken before the damage "
        "(python -m bot db restore PATH)."
    ]
    newer = await bot_database(tmp_path / "newer.sqlite3")
    set_schema_version(newer, LATEST + 1)
    report = await check_database(DatabaseTarget("sqlite", path=newer))
    assert report.problems == [
        f"The database is at schema version {LATEST + 1}, but this bot only knows versions up to {LATEST}: a newer "
        "version of the bot wrote it; run that version, or restore an older backup."
    ]
    with pytest.raises(CheckError, match=f"There is no database at {tmp_path / 'missing.sqlite3'}."):
        await check_database(DatabaseTarget("sqlite", path=tmp_path / "missing.sqlite3"))


async def test_check_on_postgresql(postgres_database: str) -> None:
    """PostgreSQL: every table read, this bot's schema version, pg_database_size, row counts."""
    async with await Database.open(postgres_database) as db:
        await db.state.set_meta("a", "1")
    report = await check_database(DatabaseTarget("postgresql", url=postgres_database))
    latest = migrations.discover(dialect="postgresql")[-1].version
    assert report.ok, report.problems
    assert (report.backend, report.schema_version, report.latest_version) == ("postgresql", latest, latest)
    assert report.size_bytes is not None and report.size_bytes > 0
    assert dict(report.tables)["meta"] == 1 and "schema_version" not in dict(report.tables)
    assert report.lines()[0].endswith("(PostgreSQL)")
