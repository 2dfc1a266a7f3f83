"""/concept, /concepts, /reading, /tour and /search: read the content, privately by default.

Lookups answer ephemerally so twenty members browsing don't flood the channel; every answer has a
"Share in channel" button (bot/exts/concepts/sharing.py) that posts the same card publicly when someone wants
to discuss it.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.cards import (
    concepts_in_step,
    reading_share_key,
    readings_card,
    search_card,
    step_card,
    steps_overview_card,
    unknown_step_text,
)
from bot.domain.content import ReadingLevel
from bot.domain.search import AUTOCOMPLETE_LIMIT
from bot.domain.text import truncate
from bot.errors import UserFacingError
from bot.exts.concepts.sharing import with_share
from bot.exts.concepts.views import OpenConceptSelect, TourButton, concept_menu, concept_message, tour_message
from bot.render import card_embed
from bot.ui import concept_autocomplete, persistent_view


class Concepts(commands.Cog):
    """Read about the ideas of the essay."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Register the persistent components so old messages keep working after a restart."""
        self.bot.add_dynamic_items(TourButton, OpenConceptSelect)

    async def cog_unload(self) -> None:
        """Stop listening for this cog's components."""
        self.bot.remove_dynamic_items(TourButton, OpenConceptSelect)

    async def step_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggest the essay's steps."""
        steps = self.bot.library.store.steps
        needle = current.casefold().strip()
        return [
            app_commands.Choice(name=truncate(f"{n}. {s.title}", 100), value=s.id)
            for n, s in enumerate(steps, start=1)
            if needle in s.title.casefold() or needle in s.id
        ][:AUTOCOMPLETE_LIMIT]

    @app_commands.command(name="concept")
    @app_commands.describe(name="The concept's name; start typing to see suggestions")
    @app_commands.autocomplete(name=concept_autocomplete)
    async def concept(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        """Explain one alignment concept, with an example and readings."""
        library = self.bot.library
        concept = library.find_concept(name)
        await interaction.response.send_message(**concept_message(library, concept.id), ephemeral=True)

    @app_commands.command(name="concepts")
    @app_commands.describe(step="A step of the essay's argument; leave empty for an overview")
    @app_commands.autocomplete(step=step_autocomplete)
    async def concepts(self, interaction: discord.Interaction, step: str | None = None) -> None:
        """Browse concepts by step of the essay's argument."""
        library = self.bot.library
        store = library.store
        if step is None:
            await interaction.response.send_message(embed=card_embed(steps_overview_card(store)), ephemeral=True)
            return
        chosen = next((s for s in store.steps if step in (s.id, s.title)), None)
        if chosen is None:
            raise UserFacingError(unknown_step_text(step, [s.id for s in store.steps]))
        menu = concept_menu(library, [c.id for c in concepts_in_step(store, chosen.id)])
        await interaction.response.send_message(
            embed=card_embed(step_card(store, chosen.id)), view=with_share("step", chosen.id, *menu), ephemeral=True
        )

    @app_commands.command(name="reading")
    @app_commands.describe(concept="Only readings for this concept", level="Only readings at this level")
    @app_commands.autocomplete(concept=concept_autocomplete)
    async def reading(
        self, interaction: discord.Interaction, concept: str | None = None, level: ReadingLevel | None = None
    ) -> None:
        """List reading links, easiest first."""
        library = self.bot.library
        found = library.find_concept(concept) if concept else None
        card = readings_card(library.store, found, level)
        view = with_share("reading", reading_share_key(found, level))
        await interaction.response.send_message(embed=card_embed(card), view=view, ephemeral=True)

    @app_commands.command(name="tour")
    async def tour(self, interaction: discord.Interaction) -> None:
        """Walk through the essay's argument step by step."""
        await interaction.response.send_message(**tour_message(self.bot.library, 0), ephemeral=True)

    @app_commands.command(name="search")
    @app_commands.describe(query="Words to look for in summaries, key points, examples and readings")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        """Search the concepts and readings, best matches first."""
        library = self.bot.library
        hits = library.index.search(query)
        view = persistent_view(*concept_menu(library, [h.item_id for h in hits if h.kind == "concept"]))
        await interaction.response.send_message(embed=card_embed(search_card(query, hits)), view=view, ephemeral=True)
