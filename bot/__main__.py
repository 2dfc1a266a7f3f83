"""Start-up: settings -> logging -> database -> content -> Bot -> start.

python -m bot                  run the bot
python -m bot --sync           run, and sync slash commands even if they look unchanged
python -m bot content check [DIR]   validate the content folder (exit 0 when valid, 1 otherwise)
python -m bot content show ID  print how a concept will look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from bot.db import Database
from bot.domain.content import SCHEMA_FILES, ContentInvalid, ContentStore, concept_card, json_schemas, load_content
from bot.errors import StartupError
from bot.log import setup_logging
from bot.settings import Settings, load_settings

log = logging.getLogger("bot")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="AI alignment discussion bot for Discord.")
    parser.add_argument("--sync", action="store_true", help="sync slash commands even if unchanged")
    sub = parser.add_subparsers(dest="command")
    content = sub.add_parser("content", help="work with the content folder").add_subparsers(
        dest="action", required=True
    )
    check = content.add_parser("check", help="validate the content folder")
    check.add_argument("directory", nargs="?", type=Path, help="folder to check (default: CONTENT_DIR)")
    show = content.add_parser("show", help="print how a concept will look")
    show.add_argument("id", help="concept id, title or alias")
    content.add_parser("schema", help="write the JSON Schemas of the content files to CONTENT_DIR/schema")
    return parser.parse_args(argv)


def load_content_or_fail(directory: Path) -> ContentStore:
    """Load the content folder, turning validation errors into a StartupError that lists every one."""
    try:
        return load_content(directory)
    except ContentInvalid as exc:
        lines = "\n".join(f"  {error}" for error in exc.errors)
        raise StartupError(f"The content in {directory} has {len(exc.errors)} error(s):\n{lines}") from None


def run_content_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run `content check` or `content show`; return the exit code."""
    directory = getattr(args, "directory", None) or settings.content_dir
    if args.action == "schema":
        (directory / "schema").mkdir(exist_ok=True)
        for name, text in json_schemas().items():
            (directory / "schema" / name).write_text(text, encoding="utf-8")
        print(f"Wrote {len(SCHEMA_FILES)} schemas to {directory / 'schema'}")  # noqa: T201 - CLI output
        return 0
    try:
        store = load_content(directory)
    except ContentInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)  # noqa: T201 - CLI output
        print(f"{len(exc.errors)} error(s) in {directory}", file=sys.stderr)  # noqa: T201
        return 1
    if args.action == "check":
        stats = ", ".join(f"{count} {name}" for name, count in store.stats().items())
        print(f"{directory}: valid ({stats})")  # noqa: T201 - CLI output
        return 0
    concept = store.find(args.id)
    if concept is None:
        print(f"No concept is called {args.id!r}.", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    card = concept_card(concept, store)
    parts = [card.title, "=" * len(card.title), card.description]
    parts += [f"\n{name}\n{value}" for name, value in card.fields]
    if card.footer:
        parts.append(f"\n{card.footer}")
    print("\n".join(parts))  # noqa: T201 - CLI output
    return 0


async def run_bot(settings: Settings, *, force_sync: bool) -> None:
    """Open the database, load content, and run the bot until it is stopped."""
    # Imported here so `content check` works without loading discord.py.
    import discord

    from bot.bot import AlignmentBot, discord_endpoints
    from bot.domain.search import Library

    token = settings.require_token()
    async with await Database.open(settings.database_path) as db:
        library = Library.build(load_content_or_fail(settings.content_dir))
        with discord_endpoints(settings.discord_api_base, settings.discord_gateway_url):
            bot = AlignmentBot(settings=settings, db=db, library=library, force_sync=force_sync)
            async with bot:
                try:
                    await bot.start(token)
                except discord.LoginFailure:
                    raise StartupError(
                        "Discord rejected DISCORD_TOKEN: copy the token again from the Bot page of your application."
                    ) from None


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level)
        if args.command == "content":
            return run_content_command(args, settings)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_bot(settings, force_sync=args.sync))
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)  # noqa: T201 - the one sentence the user must see
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
