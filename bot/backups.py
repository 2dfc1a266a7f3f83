"""Automatic backups of the SQLite database (BACKUP_DIR, BACKUP_KEEP, BACKUP_INTERVAL_HOURS).

Every BACKUP_INTERVAL_HOURS a supervised loop (bot/background.py) takes a backup with bot/db/backup.py in a thread,
off the event loop, and deletes its own oldest files beyond BACKUP_KEEP. Backups made with `python -m bot db backup`
are never deleted. A failure (a full disk, a folder that is gone) is logged in one line and kept in `last_error` for
the admin status view; the bot carries on and tries again later. The first backup is due one interval after the
newest one already in the folder, so restarting the bot does not take a backup each time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from bot.background import BackgroundLoop
from bot.clock import Clock
from bot.db.backup import (
    BackupError,
    BackupFile,
    backup_sqlite,
    latest_backup,
    list_backups,
    remove_abandoned_partials,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

# After a failed backup, try again this soon (or at the next interval, if that is sooner).
RETRY_AFTER = timedelta(hours=1)


class AutoBackups:
    """Backs up `database` into `directory` every `interval`, keeping the newest `keep` of its own backups.

    Read by the admin status view: `last_backup` (the newest backup in the folder, automatic or manual),
    `last_error` / `last_error_at` (why and when the latest automatic backup failed; None once one succeeds), and
    `failed_backups` (how many failed since the start).
    """

    def __init__(self, database: Path, directory: Path, *, keep: int, interval: timedelta, clock: Clock) -> None:
        self.database = database
        self.directory = directory
        self.keep = keep
        self.interval = interval
        self._clock = clock
        self.last_backup: BackupFile | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.failed_backups = 0
        self._looked = False  # whether the folder has been read for an earlier backup yet
        self.loop = BackgroundLoop("auto-backups", self._pass, clock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> AutoBackups | None:
        """Return the automatic backups BACKUP_DIR asks for, or None (not set, or the database is PostgreSQL)."""
        if settings.backup_dir is None:
            return None
        database = settings.database
        if database.path is None:
            log.warning(
                "BACKUP_DIR is set, but automatic backups are for SQLite databases only; back PostgreSQL up with "
                "pg_dump (see the README)"
            )
            return None
        return cls(
            database.path,
            settings.backup_dir,
            keep=settings.backup_keep,
            interval=timedelta(hours=settings.backup_interval_hours),
            clock=clock,
        )

    def start(self) -> None:
        """Start the loop."""
        self.loop.start()

    async def stop(self) -> None:
        """Stop the loop, letting a backup that has begun finish first (within the loop's grace period)."""
        await self.loop.stop()

    async def _pass(self) -> datetime:
        """Take a backup if one is due, prune, and return when the next one is due."""
        now = self._clock.now()
        if not self._looked:
            self._looked = True
            try:
                self.last_backup = await asyncio.to_thread(latest_backup, self.directory)
            except OSError as exc:
                self._failed(now, f"the backup folder {self.directory} cannot be read ({exc.strerror or exc})")
                return now + min(self.interval, RETRY_AFTER)
        if self.last_backup is not None and self.last_backup.taken_at + self.interval > now:
            return self.last_backup.taken_at + self.interval
        try:
            made = await asyncio.to_thread(self._backup_and_prune, now)
        except (BackupError, OSError, sqlite3.Error) as exc:
            # Expected conditions (a full disk, permissions, a damaged database): one line, not a traceback.
            self._failed(now, str(exc).rstrip("."))
            return now + min(self.interval, RETRY_AFTER)
        except Exception as exc:
            log.exception("Automatic backup of %s failed unexpectedly", self.database)
            self._failed(now, f"{type(exc).__name__}: {exc}", logged=True)
            return now + min(self.interval, RETRY_AFTER)
        self.last_backup, self.last_error, self.last_error_at = made, None, None
        log.info("Backed up the database to %s (%d bytes)", made.path, made.size_bytes)
        return made.taken_at + self.interval

    def _backup_and_prune(self, now: datetime) -> BackupFile:
        """Take a backup, then delete this loop's own backups beyond the newest `keep` (runs in a thread)."""
        made = backup_sqlite(self.database, self.directory, now=now, automatic=True)
        # Unfinished backups of a process stopped mid-copy (forced exit): older than a day, nobody is writing them.
        remove_abandoned_partials(self.directory, timedelta(days=1), now)
        own = [backup for backup in list_backups(self.directory) if backup.automatic]
        for old in own[: max(len(own) - self.keep, 0)]:
            try:
                old.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # the new backup is made; an old one left behind is worth a warning, no more
                log.warning("Could not delete the old backup %s (%s)", old.path, exc.strerror or exc)
        return made

    def _failed(self, now: datetime, reason: str, *, logged: bool = False) -> None:
        self.last_error, self.last_error_at = reason, now
        self.failed_backups += 1
        if not logged:
            log.error("Automatic backup failed: %s", reason)
