"""`python -m bot db ...`: work with the database from the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bot.settings import DatabaseTarget, parse_database_url, redact_url


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `db copy` to the command line."""
    database = sub.add_parser("db", help="work with the database").add_subparsers(dest="action", required=True)
    copy = database.add_parser("copy", help="copy every row from one database into another, in one transaction")
    copy.add_argument("source", type=database_argument, help="database URL or SQLite file to copy from (only read)")
    copy.add_argument("target", type=database_argument, help="database URL or SQLite file to copy into")
    copy.add_argument("--replace", action="store_true", help="delete the target's rows first instead of refusing")


def database_argument(text: str) -> DatabaseTarget:
    """Read a database URL (postgresql://, sqlite:///) or a plain SQLite file path; a bad one is a usage error."""
    if "://" not in text:
        return DatabaseTarget("sqlite", path=Path(text))
    try:
        return parse_database_url(text)
    except ValueError as exc:  # argparse would quote the text, password included; this names it redacted
        raise argparse.ArgumentTypeError(f"{redact_url(text)}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run `db copy`: the summary to stdout, progress and the one-sentence failure to stderr; return the exit code."""
    from bot.db.copy import CopyError, copy_database, summary

    for handler in logging.getLogger().handlers:  # stdout holds the summary alone; warnings join the progress
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
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
