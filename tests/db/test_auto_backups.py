"""Automatic backups (bot/backups.py) on a real SQLite file, with the clock moved by the test instead of sleeping."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.backups import RETRY_AFTER, AutoBackups
from bot.db import Database
from bot.db import backup as backup_module
from bot.db.backup import BackupFile, backup_name, latest_schema_version, list_backups
from bot.settings import Settings
from tests.clock import FakeClock

INTERVAL = timedelta(hours=24)
LATEST = latest_schema_version()


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `check()` is true: the backup runs in a thread, which the fake clock does not drive."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def next_backup(backups: AutoBackups, clock: FakeClock, due: datetime) -> BackupFile:
    """Wait until the loop sleeps until `due`, move the clock there, and return the backup it then takes."""
    await until(lambda: due in clock.sleepers)
    before = backups.last_backup
    await clock.set(due)
    await until(lambda: backups.last_backup is not before)
    assert backups.last_backup is not None
    return backups.last_backup


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Path]:
    """Return a migrated SQLite database, open (as the running bot has it) for the whole test."""
    path = tmp_path / "bot.sqlite3"
    async with await Database.open(path) as db:
        await db.state.set_meta("kept", "yes")
        yield path


@pytest.fixture
async def clock() -> FakeClock:
    """Return the test's clock."""
    return FakeClock()


async def test_backups_are_taken_every_interval_and_pruned_to_keep(
    database: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """The first at start, then one per interval; only the newest 3 automatic ones stay, other files untouched."""
    folder = tmp_path / "backups"
    folder.mkdir()
    manual = folder / backup_name(clock.now() - timedelta(days=30), LATEST)  # made by `db backup`: never pruned
    manual.write_bytes(b"manual")
    (folder / "notes.txt").write_text("not a backup")
    backups = AutoBackups(database, folder, keep=3, interval=INTERVAL, clock=clock)
    backups.start()
    try:
        await until(lambda: backups.last_backup is not None and backups.last_backup.automatic)
        taken = [backups.last_backup]
        for _ in range(4):
            assert taken[-1] is not None
            taken.append(await next_backup(backups, clock, taken[-1].taken_at + INTERVAL))
    finally:
        await backups.stop()
    times = [backup.taken_at for backup in taken if backup is not None]
    assert times == [clock.now() - INTERVAL * n for n in range(4, -1, -1)]
    automatic = [backup for backup in list_backups(folder) if backup.automatic]
    assert [backup.taken_at for backup in automatic] == times[-3:]
    assert sorted(os.listdir(folder)) == sorted([manual.name, "notes.txt", *(b.path.name for b in automatic)])
    assert all(b.path.name.endswith(f"-v{LATEST:04d}-auto.sqlite3") for b in automatic)
    assert backups.last_error is None and backups.failed_backups == 0 and backups.loop.failed_passes == 0


async def test_a_failure_is_recorded_in_one_line_and_the_next_backup_succeeds(
    database: Path,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full disk: last_error says so, the log has one line without a traceback, the loop lives; it retries."""
    folder = tmp_path / "backups"

    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    backups = AutoBackups(database, folder, keep=3, interval=INTERVAL, clock=clock)
    started = clock.now()
    with monkeypatch.context() as disk, caplog.at_level(logging.INFO, logger="bot.backups"):
        disk.setattr(backup_module, "_fsync", full)
        backups.start()
        await until(lambda: backups.last_error is not None)
    try:
        assert backups.last_error == (
            f"The backup of {database} could not be written to {folder / backup_name(started, LATEST, automatic=True)} "
            "(No space left on device)"
        )
        assert backups.last_error_at == started and backups.last_backup is None and backups.failed_backups == 1
        failures = [record for record in caplog.records if record.levelno >= logging.ERROR]
        assert [record.getMessage() for record in failures] == [f"Automatic backup failed: {backups.last_error}"]
        assert failures[0].exc_info is None
        assert list_backups(folder) == [] and os.listdir(folder) == []
        assert backups.loop.running and backups.loop.failed_passes == 0

        made = await next_backup(backups, clock, started + RETRY_AFTER)  # the disk has room again
    finally:
        await backups.stop()
    assert made.taken_at == started + RETRY_AFTER and made.path.is_file()
    assert (backups.last_error, backups.last_error_at, backups.failed_backups) == (None, None, 1)
    assert not backups.loop.running


async def test_a_restart_waits_for_the_interval_since_the_newest_backup(
    database: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A backup 6 h old in the folder (manual or automatic): none now, the next one 18 h later."""
    folder = tmp_path / "backups"
    earlier = backup_module.backup_sqlite(database, tmp_path / "backups", now=clock.now() - timedelta(hours=6))
    backups = AutoBackups(database, folder, keep=3, interval=INTERVAL, clock=clock)
    backups.start()
    try:
        await until(lambda: clock.sleepers == [earlier.taken_at + INTERVAL])
        assert backups.last_backup == earlier
        assert [backup.path for backup in list_backups(folder)] == [earlier.path]
        made = await next_backup(backups, clock, earlier.taken_at + INTERVAL)
    finally:
        await backups.stop()
    assert made.automatic and made.taken_at == clock.now()


def test_settings_decide_whether_there_are_automatic_backups(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """None without BACKUP_DIR; on PostgreSQL a warning and none; on SQLite the settings' folder, count and interval."""
    clock = FakeClock()
    assert AutoBackups.from_settings(Settings(database_path=tmp_path / "bot.sqlite3"), clock) is None
    on_postgres = Settings(database_url="postgresql://bot@db/bot", backup_dir=tmp_path / "b")
    with caplog.at_level(logging.WARNING, logger="bot.backups"):
        assert AutoBackups.from_settings(on_postgres, clock) is None
    assert "automatic backups are for SQLite databases only; back PostgreSQL up with pg_dump" in caplog.text
    settings = Settings(
        database_path=tmp_path / "bot.sqlite3", backup_dir=tmp_path / "b", backup_keep=5, backup_interval_hours=6
    )
    backups = AutoBackups.from_settings(settings, clock)
    assert backups is not None
    assert (backups.database, backups.directory, backups.keep, backups.interval) == (
        tmp_path / "bot.sqlite3",
        tmp_path / "b",
        5,
        timedelta(hours=6),
    )


async def test_a_backup_abandoned_half_way_is_cleared_away_but_one_being_written_is_not(
    database: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A `.partial` file left by a forced exit days ago goes with the next automatic backup; a fresh one stays."""
    folder = tmp_path / "backups"
    folder.mkdir()
    abandoned, in_progress = folder / ".bot-backup-old.partial", folder / ".bot-backup-new.partial"
    for partial, age in ((abandoned, timedelta(days=2)), (in_progress, timedelta(minutes=1))):
        partial.write_bytes(b"half a copy")
        written = (clock.now() - age).timestamp()
        os.utime(partial, (written, written))
    backups = AutoBackups(database, folder, keep=3, interval=INTERVAL, clock=clock)
    backups.start()
    try:
        await until(lambda: backups.last_backup is not None)
    finally:
        await backups.stop()
    assert not abandoned.exists() and in_progress.exists()
