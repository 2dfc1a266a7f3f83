"""/concept, /concepts, /reading, /tour and /search: read the content, privately by default.

Lookups answer ephemerally so twenty members browsing don't flood the channel; every answer has a
"Share in channel" button that posts the same card publicly when someone wants to discuss it. An interaction
response is posted whatever the channel's permissions say, so sharing checks the member's own permissions there,
and allows one card per member every SHARE_COOLDOWN.
Buttons and menus are DynamicItems whose custom_id carries their state, so they survive restarts.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.card import Card
from bot.domain.cards import (
    SHARE_COOLDOWN,
    Cooldown,
    concepts_in_step,
    readings_card,
    search_card,
    step_card,
    steps_overview_card,
    tour_card,
)
from bot.domain.content import Concept, concept_card
from bot.domain.search import AUTOCOMPLETE_LIMIT, Library
from bot.domain.text import truncate
from bot.errors import UserFacingError
from bot.render import card_embed
from bot.ui import ReportingDynamicItem, cog_for, concept_autocomplete, library_of

PREFIX = "align"
Level = Literal["intro", "intermediate", "technical"]


def concept_or_error(library: Library, name: str) -> Concept:
    """Return the concept called `name`, or raise a UserFacingError that suggests close names."""
    concept = library.store.find(name)
    if concept is None:
        suggestions = library.matcher.suggestions(name)
        hint = f" Did you mean {', '.join(f'**{s}**' for s in suggestions)}?" if suggestions else ""
        raise UserFacingError(f"I don't know a concept called {truncate(name, 80)!r}.{hint}")
    return concept


# --- the share target: what a "Share in channel" button re-renders publicly ---

THREAD_TYPES = frozenset(
    {discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread}
)


class CannotShareHere(UserFacingError):
    """The member may not post a card in this channel."""

    default_message = "You can't post in this channel, so you can't share a card here."


class SharingTooFast(UserFacingError):
    """The member shared a card moments ago."""

    default_message = "Slow down a little: you shared a card moments ago."


def missing_share_permissions(interaction: discord.Interaction[Any]) -> list[str]:
    """Name the permissions the member lacks to post a card where they clicked (none outside servers)."""
    if interaction.guild_id is None:
        return []  # a DM: no channel permissions apply, and both people in it can post there anyway
    permissions = interaction.permissions  # the member's, in this channel, with overwrites applied
    if getattr(interaction.channel, "type", None) in THREAD_TYPES:
        needed = {"Send Messages in Threads": permissions.send_messages_in_threads}
    else:
        needed = {"Send Messages": permissions.send_messages}
    needed["Embed Links"] = permissions.embed_links  # the card is an embed
    return [name for name, granted in needed.items() if not granted]


def render_shared(library: Library, kind: str, key: str) -> Card:
    """Re-render a shared card from the state in its custom_id."""
    store = library.store
    if kind == "concept":
        concept = store.concepts.get(key)
        if concept is None:
            raise UserFacingError("That concept is no longer in the library.")
        return concept_card(concept, store)
    if kind == "tour":
        return tour_card(store, int(key))[0]
    if kind == "step":
        if not any(s.id == key for s in store.steps):
            raise UserFacingError("That step is no longer in the outline.")
        return step_card(store, key)
    concept_id, _, level = key.partition(".")
    concept = store.concepts.get(concept_id) if concept_id else None
    return readings_card(store, concept, level or None)


class ShareButton(
    ReportingDynamicItem[discord.ui.Button[Any]], template=rf"{PREFIX}:share:(?P<kind>\w+):(?P<key>[\w.-]*)"
):
    """Posts the card it sits under publicly in the channel, credited to whoever shared it."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Share in channel",
                style=discord.ButtonStyle.secondary,
                emoji="📣",
                custom_id=f"{PREFIX}:share:{kind}:{key}",
            )
        )
        self.kind = kind
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShareButton:
        """Rebuild the button from its custom_id."""
        return cls(match["kind"], match["key"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Post the card publicly, if the member may post here and hasn't just shared another."""
        if missing := missing_share_permissions(interaction):
            names = " and ".join(missing)
            raise CannotShareHere(
                f"You can't share here: posting a card in this channel needs {names}, which you don't have."
            )
        embed = card_embed(render_shared(library_of(interaction), self.kind, self.key))
        cog = cog_for(interaction, Concepts, "Sharing is unavailable right now; please try again later.")
        wait = cog.share_cooldown.try_use(interaction.user.id, cog.bot.clock.now())
        if wait is not None:
            seconds = math.ceil(wait.total_seconds())
            raise SharingTooFast(f"Slow down a little: you can share another card in {seconds} s.")
        embed.set_author(name=f"Shared by {interaction.user.display_name}")
        await interaction.response.send_message(embed=embed)


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
        embed, view = tour_message(library_of(interaction), self.page)
        await interaction.response.edit_message(embed=embed, view=view)


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
        concept = concept_or_error(library, self.item.values[0])
        await interaction.response.send_message(**concept_message(library, concept.id), ephemeral=True)


def concept_options(library: Library, concept_ids: list[str]) -> list[discord.SelectOption]:
    """Menu options for up to 25 concepts."""
    store = library.store
    return [
        discord.SelectOption(label=truncate(store.concepts[c].title, 100), value=c)
        for c in concept_ids[:AUTOCOMPLETE_LIMIT]
        if c in store.concepts
    ]


def with_share(kind: str, key: str, view: discord.ui.View | None = None) -> discord.ui.View:
    """Add a Share button to `view` (or a new one)."""
    view = view or discord.ui.View(timeout=None)
    view.add_item(ShareButton(kind, key))
    return view


def concept_message(library: Library, concept_id: str) -> dict[str, Any]:
    """Build the embed and Share button for one concept."""
    concept = library.store.concepts[concept_id]
    return {"embed": card_embed(concept_card(concept, library.store)), "view": with_share("concept", concept_id)}


def tour_message(library: Library, page: int) -> tuple[discord.Embed, discord.ui.View]:
    """Build the embed and Previous/Next/Share buttons for a tour page."""
    card, page, count = tour_card(library.store, page)
    view = discord.ui.View(timeout=None)
    view.add_item(TourButton("prev", max(page - 1, 0), disabled=page <= 0))
    view.add_item(TourButton("next", min(page + 1, max(count - 1, 0)), disabled=page >= count - 1))
    return card_embed(card), with_share("tour", str(page), view)


class Concepts(commands.Cog):
    """Read about the ideas of the essay."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.share_cooldown = Cooldown(SHARE_COOLDOWN)

    async def cog_load(self) -> None:
        """Register the persistent components so old messages keep working after a restart."""
        self.bot.add_dynamic_items(ShareButton, TourButton, OpenConceptSelect)

    async def cog_unload(self) -> None:
        """Stop listening for this cog's components."""
        self.bot.remove_dynamic_items(ShareButton, TourButton, OpenConceptSelect)

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
        concept = concept_or_error(library, name)
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
            names = ", ".join(s.id for s in store.steps)
            raise UserFacingError(f"There is no step called {truncate(step, 60)!r}. Pick one of: {names}.")
        view = discord.ui.View(timeout=None)
        options = concept_options(library, [c.id for c in concepts_in_step(store, chosen.id)])
        if options:
            view.add_item(OpenConceptSelect(options))
        with_share("step", chosen.id, view)
        await interaction.response.send_message(
            embed=card_embed(step_card(store, chosen.id)), view=view, ephemeral=True
        )

    @app_commands.command(name="reading")
    @app_commands.describe(concept="Only readings for this concept", level="Only readings at this level")
    @app_commands.autocomplete(concept=concept_autocomplete)
    async def reading(
        self, interaction: discord.Interaction, concept: str | None = None, level: Level | None = None
    ) -> None:
        """List reading links, easiest first."""
        library = self.bot.library
        found = concept_or_error(library, concept) if concept else None
        card = readings_card(library.store, found, level)
        key = f"{found.id if found else ''}.{level or ''}"
        await interaction.response.send_message(embed=card_embed(card), view=with_share("reading", key), ephemeral=True)

    @app_commands.command(name="tour")
    async def tour(self, interaction: discord.Interaction) -> None:
        """Walk through the essay's argument step by step."""
        embed, view = tour_message(self.bot.library, 0)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="search")
    @app_commands.describe(query="Words to look for in summaries, key points, examples and readings")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        """Search the concepts and readings, best matches first."""
        library = self.bot.library
        hits = library.index.search(query)
        view = discord.ui.View(timeout=None)
        options = concept_options(library, [h.item_id for h in hits if h.kind == "concept"])
        if options:
            view.add_item(OpenConceptSelect(options))
        await interaction.response.send_message(embed=card_embed(search_card(query, hits)), view=view, ephemeral=True)
