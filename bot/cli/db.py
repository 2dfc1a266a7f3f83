"""`python -m bot db ...`: work with the database from the command line (copy, backup, restore, check)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bot.settings import DatabaseTarget, Settings, parse_database_url, redact_url


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `db copy`, `db backup`, `db restore` and `db check` to the command line."""
    database = sub.add_parser("db", help="work with the database").add_subparsers(dest="action", required=True)
    copy = database.add_parser("copy", help="copy every row from one database into another, in one transaction")
    copy.add_argument("source", type=database_argument, help="database URL or SQLite file to copy from (only read)")
    copy.add_argument("target", type=database_argument, help="database URL or SQLite file to copy into")
    copy.add_argument("--replace", action="store_true", help="delete the target's rows first instead of refusing")
    backup = database.add_parser("backup", help="copy the SQLite database consistently, even while the bot runs")
    backup.add_argument(
        "path",
        nargs="?",
        help="a folder (the file gets a dated name) or a new file name; default BACKUP_DIR, else backups/ beside "
        "the database",
    )
    restore = database.add_parser("restore", help="put a backup in place of the database (the bot must be stopped)")
    restore.add_argument("path", type=Path, help="the backup file to restore")
    check = database.add_parser("check", help="report integrity, schema version, size and rows per table")
    check.add_argument(
        "database", nargs="?", type=database_argument, help="database URL or SQLite file; default the bot's own"
    )


def database_argument(text: str) -> DatabaseTarget:
    """Read a database URL (postgresql://, sqlite:///) or a plain SQLite file path; a bad one is a usage error."""
    if "://" not in text:
        return DatabaseTarget("sqlite", path=Path(text))
    try:
        return parse_database_url(text)
    except ValueError as exc:  # argparse would quote the text, password included; this names it redacted
        raise argparse.ArgumentTypeError(f"{redact_url(text)}: {exc}") from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `db` action and return the exit code: output to stdout, the one-sentence failure to stderr."""
    from bot.cli import db_backup

    for handler in logging.getLogger().handlers:  # stdout holds the command's output alone
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    if args.action == "backup":
        return db_backup.backup(settings, args.path)
    if args.action == "restore":
        return db_backup.restore(settings, args.path)
    if args.action == "check":
        return db_backup.check(args.database or settings.database)
    return copy(args)


def copy(args: argparse.Namespace) -> int:
    """Run `db copy`: the summary to stdout, progress and the one-sentence failure to stderr; return the exit code."""
    from bot.db.copy import CopyError, copy_database, summary

    logging.getLogger("bot.db").setLevel(logging.WARNING)  # the copy reports its own steps, not "Opened database"
    # Every message names the databases redacted; this catches a password quoted back by a driver's error too.
    secrets = [secret for t in (args.source, args.target) if t.url and (secret := urlsplit(t.url).password)]

    def say(text: str, stream: TextIO) -> None:
        for secret in secrets:
            text = text.replace(secret, "***")
        print(text, file=stream, flush=True)

    try:
        copied = asyncio.run(
            copy_database(args.source, args.target, replace=args.replace, progress=lambda line: say(line, sys.stderr))
        )
    except CopyError as exc:
        say(str(exc), sys.stderr)
        return 1
    say(f"{args.source.redacted} -> {args.target.redacted}\n{summary(copied)}", sys.stdout)
    return 0
