"""`python -m bot db backup [PATH]`, `db restore PATH` and `db check [DATABASE]` (bot/db/backup.py and check.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.db.backup import BackupError, backup_sqlite, restore_sqlite
from bot.db.check import CheckError, check_database, human_size
from bot.settings import DatabaseTarget, Settings

POSTGRES_BACKUP = (
    "DATABASE_URL points at PostgreSQL, and db {action} works on SQLite files only: {how} (see the README's "
    "section on backups)."
)


def fail(sentence: str) -> int:
    """Print the one sentence saying what went wrong to stderr; return the exit code 1."""
    print(sentence, file=sys.stderr, flush=True)  # noqa: T201 - the command's output
    return 1


def say(*lines: str) -> None:
    """Print the command's result to stdout."""
    print("\n".join(lines), flush=True)  # noqa: T201 - the command's output


def backup(settings: Settings, path: str | None) -> int:
    """Back up the SQLite database into PATH (a folder, or a new file), BACKUP_DIR, or backups/ beside it."""
    target = settings.database
    if target.path is None:
        return fail(POSTGRES_BACKUP.format(action="backup", how="back it up with pg_dump -Fc"))
    try:
        if path is None:
            made = backup_sqlite(target.path, settings.backup_dir)  # None: backups/ beside the database
        elif path.endswith(("/", "\\")) or Path(path).is_dir():  # a folder: the backup gets a dated name in it
            made = backup_sqlite(target.path, Path(path))
        else:
            made = backup_sqlite(target.path, Path(path).parent, name=Path(path).name)
    except BackupError as exc:
        return fail(str(exc))
    say(
        f"Backed up {target.path} to {made.path} ({human_size(made.size_bytes)}, schema version "
        f"{made.schema_version}, integrity ok)."
    )
    return 0


def restore(settings: Settings, backup: Path) -> int:
    """Put the backup at `backup` in place of the SQLite database, keeping the replaced one aside."""
    target = settings.database
    if target.path is None:
        return fail(POSTGRES_BACKUP.format(action="restore", how="restore a pg_dump -Fc file with pg_restore"))
    try:
        restored = restore_sqlite(backup, target.path)
    except BackupError as exc:
        return fail(str(exc))
    lines = [f"Restored {target.path} from {backup} (schema version {restored.schema_version}, integrity ok)."]
    if restored.schema_version < restored.latest_version:
        lines.append(
            f"The bot migrates it from schema version {restored.schema_version} to {restored.latest_version} "
            "when it next starts."
        )
    if restored.replaced is not None:
        lines.append(f"The database it replaced is kept as {restored.replaced}; delete it once all is well.")
    say(*lines)
    return 0


def check(target: DatabaseTarget) -> int:
    """Print the report on `target`; exit 1, with one sentence per problem on stderr, if anything is wrong."""
    secret = urlsplit(target.url).password if target.url else None

    def scrubbed(text: str) -> str:  # the report names the database redacted; a driver's error might not
        return text.replace(secret, "***") if secret else text

    try:
        report = asyncio.run(check_database(target))
    except CheckError as exc:
        return fail(scrubbed(str(exc)))
    say(*(scrubbed(line) for line in report.lines()))
    for problem in report.problems:
        fail(scrubbed(problem))
    return 0 if report.ok else 1
