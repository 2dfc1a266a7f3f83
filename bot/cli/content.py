"""`python -m bot content ...`: check the content folder, show a concept, write the JSON Schemas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.domain.content import ContentInvalid, ContentStore, concept_card
from bot.domain.content_loader import SCHEMA_FILES, json_schemas, load_content
from bot.settings import Settings


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `content check|show|schema` to the command line."""
    content = sub.add_parser("content", help="work with the content folder").add_subparsers(
        dest="action", required=True
    )
    check = content.add_parser("check", help="validate the content folder")
    check.add_argument("directory", nargs="?", type=Path, help="folder to check (default: CONTENT_DIR)")
    show = content.add_parser("show", help="print how a concept will look")
    show.add_argument("id", help="concept id, title or alias")
    content.add_parser("schema", help="write the JSON Schemas of the content files to CONTENT_DIR/schema")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `content check`, `content show` or `content schema`; return the exit code."""
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
        print(unknown_concept(args.id, store), file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    card = concept_card(concept, store)
    parts = [card.title, "=" * len(card.title), card.description]
    parts += [f"\n{name}\n{value}" for name, value in card.fields]
    if card.footer:
        parts.append(f"\n{card.footer}")
    print("\n".join(parts))  # noqa: T201 - CLI output
    return 0


def unknown_concept(name: str, store: ContentStore) -> str:
    """Say that no concept has this name, suggesting the closest ids (the bot's own "did you mean" matcher)."""
    from bot.domain.search import Library

    matches = Library.build(store).matcher.matches(name, 3)
    if not matches:
        return f"No concept is called {name!r}, nor anything close. The concept ids are: {', '.join(store.concepts)}."
    options = [f"{match.concept_id} ({match.title})" for match in matches]
    listed = options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
    return f"No concept is called {name!r}. Did you mean {listed}?"
