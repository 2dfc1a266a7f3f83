"""Start-up: settings -> logging -> content -> database -> Bot -> start; SIGTERM or SIGINT stops it cleanly.

python -m bot                  run the bot
python -m bot --sync           run, and sync slash commands even if they look unchanged
python -m bot content check [DIR]   validate the content folder (exit 0 when valid, 1 otherwise)
python -m bot content show ID  print how a concept will look
python -m bot db copy SOURCE TARGET [--replace]   copy every row from one database into another
python -m bot health [--ready] exit 0 if the running bot is healthy (and ready), 1 otherwise
python -m bot db backup [PATH]   back up the SQLite database (while the bot runs, too)
python -m bot db restore PATH    put a backup in place of the SQLite database (the bot stopped)
python -m bot db check [DATABASE]   integrity, schema version, size and rows per table (exit 1 on a problem)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from bot.cli import content as content_cli
from bot.cli import db as db_cli
from bot.cli import health as health_cli
from bot.db.leases import LeaseLost
from bot.errors import StartupError
from bot.log import secrets_of, setup_logging
from bot.run import run_bot
from bot.settings import load_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="AI alignment discussion bot for Discord.")
    parser.add_argument("--sync", action="store_true", help="sync slash commands even if unchanged")
    sub = parser.add_subparsers(dest="command")
    content_cli.add_commands(sub)
    db_cli.add_commands(sub)
    health_cli.add_commands(sub)
    return parser.parse_args(argv)


def stdout_closed() -> int:
    """Handle a reader that went away (`... | head -1`): silence the final flush and exit without a traceback."""
    # The recipe from the Python docs (signal module, "Note on SIGPIPE"): further writes go to /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.log_format, secrets_of(settings))
        if args.command == "content":
            code = content_cli.run(args, settings)
            sys.stdout.flush()  # here, inside the try, rather than at exit where a broken pipe can't be caught
            return code
        if args.command == "health":
            return health_cli.run(args, settings)
        if args.command == "db":
            return db_cli.run(args, settings)
        with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before the signal handlers are in place
            asyncio.run(run_bot(settings, force_sync=args.sync))
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)  # noqa: T201 - the one sentence the user must see
        return 1
    except LeaseLost:  # logged as it happened
        return 1
    except BrokenPipeError:
        return stdout_closed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
