"""The concepts' messages and their persistent components: tour pages with Previous/Next, and a concept menu.

Buttons and menus are DynamicItems whose custom_id carries their state, so they survive restarts.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.domain.cards import tour_card
from bot.domain.content import concept_card
from bot.domain.search import AUTOCOMPLETE_LIMIT, Library
from bot.domain.text import truncate
from bot.exts.concepts.sharing import PREFIX, with_share
from bot.render import card_embed
from bot.ui import ReportingDynamicItem, library_of


class TourButton(
    ReportingDynamicItem[discord.ui.Button[Any]], template=rf"{PREFIX}:tour:(?P<dir>prev|next):(?P<page>\d+)"
):
    """Previous/Next in the guided tour; the custom_id holds the page it leads to."""

    def __init__(self, direction: str, page: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if direction == "prev" else "Next",
                emoji="◀️" if direction == "prev" else "▶️",
                style=discord.ButtonStyle.primary,
                custom_id=f"{PREFIX}:tour:{direction}:{page}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TourButton:
        """Rebuild the button from its custom_id."""
        return cls(match["dir"], int(match["page"]))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Show the page this button leads to, in place."""
        await interaction.response.edit_message(**tour_message(library_of(interaction), self.page))


class OpenConceptSelect(ReportingDynamicItem[discord.ui.Select[Any]], template=rf"{PREFIX}:open:concept"):
    """A menu of concepts; picking one shows it privately."""

    def __init__(self, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"{PREFIX}:open:concept",
                placeholder="Open a concept…",
                options=options or [discord.SelectOption(label="-")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OpenConceptSelect:
        """Rebuild the menu; the chosen value arrives with the interaction."""
        return cls(list(item.options) if isinstance(item, discord.ui.Select) else None)

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Show the chosen concept."""
        library = library_of(interaction)
        concept = library.find_concept(self.item.values[0])
        await interaction.response.send_message(**concept_message(library, concept.id), ephemeral=True)


def concept_menu(library: Library, concept_ids: list[str]) -> list[OpenConceptSelect]:
    """Return a menu opening up to 25 of the concepts, or nothing if there are none (to add to a view)."""
    store = library.store
    options = [
        discord.SelectOption(label=truncate(store.concepts[c].title, 100), value=c)
        for c in concept_ids[:AUTOCOMPLETE_LIMIT]
        if c in store.concepts
    ]
    return [OpenConceptSelect(options)] if options else []


def concept_message(library: Library, concept_id: str) -> dict[str, Any]:
    """Build the embed and Share button for one concept."""
    concept = library.store.concepts[concept_id]
    return {"embed": card_embed(concept_card(concept, library.store)), "view": with_share("concept", concept_id)}


def tour_message(library: Library, page: int) -> dict[str, Any]:
    """Build the embed and Previous/Next/Share buttons for a tour page."""
    card, page, count = tour_card(library.store, page)
    previous = TourButton("prev", max(page - 1, 0), disabled=page <= 0)
    following = TourButton("next", min(page + 1, max(count - 1, 0)), disabled=page >= count - 1)
    return {"embed": card_embed(card), "view": with_share("tour", str(page), previous, following)}
