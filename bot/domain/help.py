"""/help and /about: the command listing, built from whatever commands the tree holds so it never goes stale.

Admin work lives in its own top-level groups (Discord hides those from members who lack the permission), so a
group whose commands are all for admins is listed as its own section, marked as such, after the members' ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.card import EMBED_FIELD_COUNT_LIMIT, EMBED_FIELD_LIMIT, EMBED_TOTAL_LIMIT, Card
from bot.domain.text import format_duration, pack_lines, truncate

GENERAL = "General"
ADMIN_MARK = "*(admins)*"
START_HERE_URL = "https://en.wikipedia.org/wiki/AI_alignment"
# How much of each command's description /help shows: the first that fits Discord's 6,000-character total wins,
# so a growing command set loses detail before it loses commands.
DESCRIPTION_LIMITS = (90, 60, 30, 0)
HELP_TITLE = "What I can do"
HELP_INTRO = "Slash commands, grouped by feature. Type `/` and pick one to see its options."
HELP_CUT = "Some commands are left out to fit; type `/` to see them all."


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """One invocable slash command: its full name, first line of description, and section."""

    name: str
    description: str
    section: str
    admin_only: bool = False


def _is_admin_section(section: str, entries: list[CommandEntry]) -> bool:
    """Whether a section is an admins' group: not General, and every command in it is for admins."""
    return section != GENERAL and all(entry.admin_only for entry in entries)


def _line(entry: CommandEntry, description_limit: int, *, mark_admin: bool) -> str:
    """One command's line: its name, its description cut to `description_limit` (0: none), the admin mark."""
    text = truncate(entry.description, description_limit) if description_limit else ""
    mark = ADMIN_MARK if mark_admin and entry.admin_only else ""
    return " ".join(part for part in (f"`/{entry.name}`", text, mark) if part)


def help_sections(entries: list[CommandEntry], description_limit: int = 90) -> list[tuple[str, str]]:
    """Group commands by section into (title, text) pairs that fit in embed fields, sorted by name.

    General comes first, then the members' groups, then the admins' groups (titled as such; elsewhere each admin
    command is marked), each alphabetically.
    """
    by_section: dict[str, list[CommandEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        by_section.setdefault(entry.section, []).append(entry)
    admin = {section: _is_admin_section(section, listed) for section, listed in by_section.items()}
    order = sorted(by_section, key=lambda section: (section != GENERAL, admin[section], section))
    sections: list[tuple[str, str]] = []
    for section in order:
        title = f"{section} · for admins" if admin[section] else section
        lines = [_line(entry, description_limit, mark_admin=not admin[section]) for entry in by_section[section]]
        for index, chunk in enumerate(pack_lines(lines, EMBED_FIELD_LIMIT)):
            sections.append((title if index == 0 else f"{title} (continued)", chunk))
    return sections


def help_card(entries: list[CommandEntry]) -> Card:
    """List every command in one card within Discord's limits, shortening descriptions before leaving any out."""
    for limit in DESCRIPTION_LIMITS:
        card = Card(title=HELP_TITLE, description=HELP_INTRO, fields=tuple(help_sections(entries, limit)))
        if card.total_length() <= EMBED_TOTAL_LIMIT and len(card.fields) <= EMBED_FIELD_COUNT_LIMIT:
            return card
    # Even names alone don't fit: keep the sections that do, and say that some are missing.
    budget = EMBED_TOTAL_LIMIT - len(HELP_TITLE) - len(HELP_INTRO) - len(HELP_CUT)
    kept: list[tuple[str, str]] = []
    for name, value in card.fields[:EMBED_FIELD_COUNT_LIMIT]:
        budget -= len(name) + len(value)
        if budget < 0:
            break
        kept.append((name, value))
    return Card(title=HELP_TITLE, description=HELP_INTRO, fields=tuple(kept), footer=HELP_CUT)


def about_card(
    *,
    version: str,
    uptime_seconds: float,
    servers: int,
    stats: Mapping[str, int],
    source_url: str | None = None,
    own_shards: str | None = None,
) -> Card:
    """Describe the running bot: version, uptime, servers, how much content it serves, and where to start reading.

    `own_shards` ("0-1 of 4") when this process runs only some of the shards: it knows only their servers.
    """
    links = [f"[Start here: AI alignment]({START_HERE_URL})"]
    if source_url:
        links.append(f"[Source code]({source_url})")
    content = (
        f"{stats.get('concepts', 0)} concepts · {stats.get('readings', 0)} readings · "
        f"{stats.get('steps', 0)} essay steps\n"
        f"{stats.get('prompts', 0)} starter prompts · {stats.get('estimates', 0)} reference estimates"
    )
    return Card(
        title="About this bot",
        description=(
            "I help this server learn and argue about why aligning very capable AI is hard: "
            "concept summaries with readings, community P(Doom) polls, and weekly discussion prompts."
        ),
        fields=(
            ("Version", truncate(version, 100)),
            ("Uptime", format_duration(uptime_seconds)),
            ("Servers", f"{servers} on shards {own_shards} (this process)" if own_shards else str(servers)),
            ("Content", content),
            ("Links", " · ".join(links) if len(" · ".join(links)) <= EMBED_FIELD_LIMIT else links[0]),
        ),
    )
