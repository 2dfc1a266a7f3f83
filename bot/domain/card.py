"""The card: every message the bot shows, as plain data, independent of discord.

Domain modules build cards; `bot/render.py` turns one into an embed, the only place that does. A card carries no
colour value, only its tone, so one palette serves every feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Discord's embed limits, which every card must respect.
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_LIMIT = 1024
EMBED_FIELD_COUNT_LIMIT = 25
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000

Tone = Literal["info", "error"]


@dataclass(frozen=True, slots=True)
class Card:
    """A message card: it maps one-to-one onto an embed.

    `image` names a file sent with the message (e.g. a chart) to show as the card's picture; `author` is a small
    line above the title (e.g. who shared the card).
    """

    title: str
    description: str
    fields: tuple[tuple[str, str], ...] = ()
    url: str | None = None
    footer: str | None = None
    tone: Tone = "info"
    image: str | None = None
    author: str | None = None

    def total_length(self) -> int:
        """Count characters the way Discord does for the 6000-character embed total."""
        return (
            len(self.title)
            + len(self.description)
            + sum(len(n) + len(v) for n, v in self.fields)
            + len(self.footer or "")
            + len(self.author or "")
        )
