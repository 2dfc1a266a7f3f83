"""Backups of the SQLite database: a consistent copy while the bot runs, restoring one, and finding them in a folder.

A copy of a WAL-mode database made with `cp` can miss commits still in the -wal file, or catch a page half written.
`backup_sqlite` uses SQLite's online backup API instead, in one step, so the copy is the database as of one moment
(the bot keeps writing meanwhile: WAL readers do not block it). The copy is written under a temporary name beside the
target, checked with `PRAGMA integrity_check`, synced to disk, and only then renamed into place, so a file with a
backup's name is always a complete, checked backup. Everything here blocks: the bot calls it in a thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db import migrations
from bot.db.lock import DatabaseInUse, exclusive_lock

# bot-2026-12-01T233012Z-v0006.sqlite3 (db backup) or ...-v0006-auto.sqlite3 (automatic backups, which prune only
# their own files): the time in UTC, then the schema version, so a listing sorts by time and says which bot wrote it.
BACKUP_NAME = re.compile(r"^bot-(\d{4}-\d{2}-\d{2}T\d{6})Z-v(\d{4,})(-auto)?\.sqlite3$")
_TIME_IN_NAME = "%Y-%m-%dT%H%M%S"
# Besides the database file, the files SQLite keeps next to it; a restore moves them all, as a stale -wal left
# beside the restored file would be replayed into it.
_COMPANIONS = ("-wal", "-shm", "-journal")
# The most problems `PRAGMA integrity_check` lists; one is enough to refuse, a few say what kind of damage it is.
_INTEGRITY_LINES = 5


class BackupError(Exception):
    """A backup or restore that was refused or failed, leaving everything as it was; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class BackupFile:
    """One backup file: where it is, when it was taken (aware, UTC), its size, and the schema version inside."""

    path: Path
    taken_at: datetime
    size_bytes: int
    schema_version: int
    automatic: bool = False


@dataclass(frozen=True, slots=True)
class Restored:
    """A finished restore: the backup's schema version, this bot's latest, and where the replaced database went."""

    database: Path
    schema_version: int
    latest_version: int
    replaced: Path | None  # None when there was no database to replace


def backup_name(taken_at: datetime, schema_version: int, *, automatic: bool = False) -> str:
    """Return the file name of a backup taken at `taken_at` of a database at `schema_version`."""
    stamp = taken_at.astimezone(UTC).strftime(_TIME_IN_NAME)
    return f"bot-{stamp}Z-v{schema_version:04d}{'-auto' if automatic else ''}.sqlite3"


def list_backups(directory: Path) -> list[BackupFile]:
    """Return the backups in `directory` (files named like ours, manual or automatic), oldest first.

    A folder that does not exist holds none. Other files in the folder are never listed, so never pruned.
    """
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    backups = []
    for entry in entries:
        match = BACKUP_NAME.match(entry.name)
        if match is None or not entry.is_file():
            continue
        taken_at = datetime.strptime(match.group(1), _TIME_IN_NAME).replace(tzinfo=UTC)
        version, automatic = int(match.group(2)), match.group(3) is not None
        backups.append(BackupFile(Path(entry.path), taken_at, entry.stat().st_size, version, automatic))
    return sorted(backups, key=lambda backup: (backup.taken_at, backup.path.name))


def latest_backup(directory: Path) -> BackupFile | None:
    """Return the newest backup in `directory` (made by `db backup` or automatically), or None."""
    backups = list_backups(directory)
    return backups[-1] if backups else None


def remove_abandoned_partials(folder: Path, older_than: timedelta, now: datetime) -> int:
    """Delete unfinished backups (`.bot-backup-*.partial`) last written before `now - older_than`; return how many.

    A backup interrupted by a forced exit leaves its temporary file behind; one still being written (by a
    `db backup` running beside the bot) is younger than `older_than` and kept.
    """
    removed = 0
    for partial in folder.glob(".bot-backup-*.partial"):
        try:
            written = datetime.fromtimestamp(partial.stat().st_mtime, UTC)
        except FileNotFoundError:
            continue
        if written < now - older_than:
            _remove_with_companions(partial)
            removed += 1
    return removed


def latest_schema_version() -> int:
    """Return the newest SQLite schema version this bot's migrations know."""
    return migrations.discover(dialect="sqlite")[-1].version


def default_backup_dir(database: Path) -> Path:
    """Return where backups go when no folder is named: `backups/` beside the database."""
    return database.parent / "backups"


def backup_sqlite(
    source: Path,
    folder: Path | None = None,
    *,
    name: str | None = None,
    now: datetime | None = None,
    automatic: bool = False,
) -> BackupFile:
    """Copy the SQLite database `source` consistently (a bot may be running on it) and return the backup.

    The backup goes into `folder` (created if missing; None: `backups/` beside the database) as `name`, or by
    default under a dated name. Raises BackupError, leaving no partial file, when the source is missing or damaged,
    the file exists already, or the copy cannot be written (a full disk, no permission).
    """
    taken_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if not source.is_file():
        raise BackupError(f"There is no database at {source} to back up.")
    folder = default_backup_dir(source) if folder is None else folder
    if name is not None and (folder / name).exists():
        raise BackupError(f"{folder / name} already exists; name a new file, or a folder to get a dated name.")
    with _os_errors_named(f"The backup folder {folder} cannot be used"):
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(prefix=".bot-backup-", suffix=".partial", dir=folder)
        os.close(handle)
    temporary = Path(temporary_name)
    try:
        version = _copy(source, temporary)
        final = folder / (name or backup_name(taken_at, version, automatic=automatic))
        with _os_errors_named(f"The backup of {source} could not be written to {final}"):
            _fsync(temporary)
            if final.exists():  # another backup in the same second, or a file made while we copied
                raise BackupError(f"{final} already exists; name a new file, or try again in a second.")
            os.replace(temporary, final)
            _fsync(folder)
            size = final.stat().st_size
    finally:
        _remove_with_companions(temporary)
    return BackupFile(final, taken_at, size, version, automatic)


def restore_sqlite(backup: Path, database: Path, *, now: datetime | None = None) -> Restored:
    """Put the backup at `backup` in place of the database at `database`, keeping the replaced one aside.

    Refused (BackupError, nothing changed) while a bot process holds the database's lock (which this holds until
    done), or when the backup is damaged, holds no bot data, or was written by a newer bot than this one. An older
    backup is accepted: the bot migrates it at its next start. The backup file itself is only read.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if not backup.is_file():
        raise BackupError(f"There is no backup file at {backup}.")
    if database.exists() and backup.resolve() == database.resolve():
        raise BackupError(f"{backup} is the database itself; name a backup file to restore from.")
    held = contextlib.ExitStack()
    try:  # only taking the lock is reported here; errors of the restore itself are already sentences
        held.enter_context(exclusive_lock(database))
    except DatabaseInUse as exc:
        pid = f" (pid {exc.pid})" if exc.pid else ""
        raise BackupError(
            f"A bot process{pid} is using {database}; stop it before restoring, or it would keep writing to the "
            "database being replaced."
        ) from None
    except OSError as exc:
        raise BackupError(f"{database} cannot be locked for the restore ({_reason(exc)}).") from None
    with held:
        return _restore_locked(backup, database, stamp)


def _restore_locked(backup: Path, database: Path, stamp: str) -> Restored:
    """Restore while holding the database's lock: check a copy of the backup, set the old files aside, move it in."""
    latest = latest_schema_version()
    with _os_errors_named(f"The backup {backup} cannot be copied beside {database}"):
        handle, temporary_name = tempfile.mkstemp(prefix=".bot-restore-", suffix=".partial", dir=database.parent)
        os.close(handle)
    temporary = Path(temporary_name)
    try:
        with _os_errors_named(f"The backup {backup} cannot be copied beside {database}"):
            shutil.copyfile(backup, temporary)
        version = _check_copy(temporary, f"The backup {backup}")
        if version > latest:
            raise BackupError(
                f"The backup {backup} is at schema version {version}, but this bot only knows versions up to "
                f"{latest}: a newer version of the bot wrote it. Upgrade the bot, then restore it."
            )
        with _os_errors_named(f"{database} cannot be replaced"):
            _fsync(temporary)
            replaced = _set_aside(database, stamp)
            try:
                os.replace(temporary, database)
            except OSError:
                if replaced is not None:  # put the old database back rather than leave none
                    _move_with_companions(replaced, database)
                raise
            _fsync(database.parent)
    finally:
        _remove_with_companions(temporary)
    if replaced is not None:
        _fold_wal(replaced)
    return Restored(database, version, latest, replaced)


def _copy(source: Path, temporary: Path) -> int:
    """Back up `source` into `temporary` in one step, check the copy, and return its schema version."""
    try:
        # Read-only: the backup never writes to the bot's database. timeout: wait out a writer's brief locks.
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"The database {source} cannot be opened to back it up ({exc}).") from None
    try:
        writer = sqlite3.connect(temporary)
        try:
            reader.backup(writer)  # every page in one step: one read transaction, so one moment's database
        finally:
            writer.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "") in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
            raise BackupError(f"{source} is not a SQLite database, or it is damaged ({exc}).") from None
        raise BackupError(f"The backup of {source} failed: {exc}.") from None
    finally:
        reader.close()
    return _check_copy(temporary, f"The copy of {source}")


def _check_copy(path: Path, described: str) -> int:
    """Make the copy at `path` a standalone file (no -wal), check its integrity, and return its schema version."""
    try:
        conn = sqlite3.connect(path)
        try:
            # A rollback journal: the backup is one self-contained file, never paired with a -wal. The bot turns
            # WAL back on when it opens a restored file.
            conn.execute("PRAGMA journal_mode = DELETE")
            problems = [row[0] for row in conn.execute(f"PRAGMA integrity_check({_INTEGRITY_LINES})")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{described} is not a SQLite database, or it is damaged ({exc}).") from None
    if problems != ["ok"]:
        raise BackupError(
            f"{described} fails SQLite's integrity check ({'; '.join(problems)}): the database is damaged; "
            "restore an earlier backup, or see the README on recovering a damaged database."
        )
    if version == 0:
        raise BackupError(f"{described} holds no bot data (it has no schema version); is it the bot's database?")
    return version


def _set_aside(database: Path, stamp: str) -> Path | None:
    """Rename the database and its -wal/-shm/-journal to `<name>.replaced-<stamp>...`; return the new name.

    Moved together they stay a pair SQLite can open; left behind, a -wal would be replayed into the restored file.
    """
    aside = database.with_name(f"{database.name}.replaced-{stamp}")
    number = 1
    while any(_with_suffix(aside, suffix).exists() for suffix in ("", *_COMPANIONS)):
        number += 1
        aside = database.with_name(f"{database.name}.replaced-{stamp}-{number}")
    existed = database.exists()
    _move_with_companions(database, aside)
    return aside if existed else None


def _fold_wal(path: Path) -> None:
    """Fold a set-aside database's -wal into it (closing the last connection checkpoints), so it is one file.

    Best effort: a damaged file keeps its -wal beside it, still a pair SQLite can open.
    """
    if not _with_suffix(path, "-wal").exists():
        return
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(path)
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        finally:
            conn.close()


def _with_suffix(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _move_with_companions(source: Path, target: Path) -> None:
    for suffix in ("", *_COMPANIONS):
        if _with_suffix(source, suffix).exists():
            os.replace(_with_suffix(source, suffix), _with_suffix(target, suffix))


def _remove_with_companions(path: Path) -> None:
    for suffix in ("", *_COMPANIONS):
        with contextlib.suppress(FileNotFoundError):
            _with_suffix(path, suffix).unlink()


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (after a rename), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def _os_errors_named(what: str) -> Iterator[None]:
    """Turn an OSError (a full disk, no permission) inside into a BackupError sentence starting with `what`."""
    try:
        yield
    except OSError as exc:
        raise BackupError(f"{what} ({_reason(exc)}).") from None
