"""The /help listing, built from whatever commands the tree holds so it never goes stale."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.text import pack_lines, truncate

FIELD_VALUE_LIMIT = 1024
FIELD_LIMIT = 25


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """One invocable slash command: its full name, first line of description, and section."""

    name: str
    description: str
    section: str
    admin_only: bool = False


def help_sections(entries: list[CommandEntry]) -> list[tuple[str, str]]:
    """Group commands by section into (title, text) pairs that fit in embed fields, sorted by name."""
    by_section: dict[str, list[CommandEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        by_section.setdefault(entry.section, []).append(entry)
    sections: list[tuple[str, str]] = []
    for section in sorted(by_section):
        lines = [
            f"`/{e.name}` {truncate(e.description, 90)}{' *(admins)*' if e.admin_only else ''}"
            for e in by_section[section]
        ]
        chunks = pack_lines(lines, FIELD_VALUE_LIMIT)
        for index, chunk in enumerate(chunks):
            sections.append((section if index == 0 else f"{section} (continued)", chunk))
    return sections[:FIELD_LIMIT]
