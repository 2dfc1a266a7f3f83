"""Small text helpers shared by the domain and the cogs."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# What turns text into formatting anywhere in a line: emphasis, strike, code, spoilers, masked links, and `<…>`
# (mentions, channels, timestamps). Discord shows a backslash-escaped punctuation mark as the mark itself.
_MARKDOWN = re.compile(r"[\\*_~`|\[\]<]")


def escape_markdown(text: str) -> str:
    """Return `text` with Discord's inline markdown escaped, so user text in a card is shown as typed."""
    return _MARKDOWN.sub(lambda match: "\\" + match.group(0), text)


def truncate(text: str, limit: int) -> str:
    """Return `text` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def pack_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines into as few chunks as possible, each at most `limit` characters; long lines are truncated."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def format_duration(seconds: float) -> str:
    """Describe a duration briefly, e.g. `3 d 4 h`, `12 min`, `40 s`."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


# Short words Discord's settings keep in lower case inside a permission's name ("Send Messages in Threads").
_PERMISSION_SMALL_WORDS = frozenset({"in", "and", "of", "to"})


def permission_name(flag: str) -> str:
    """Name a permission flag as Discord's settings show it: `manage_guild` is "Manage Server"."""
    words = flag.replace("guild", "server").split("_")
    return " ".join(w if i and w in _PERMISSION_SMALL_WORDS else w.capitalize() for i, w in enumerate(words))
