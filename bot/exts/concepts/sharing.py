"""The "Share in channel" button: posts a card publicly, if the member may post there and hasn't just shared one.

An interaction response is posted whatever the channel's permissions say, so sharing checks the member's own
permissions there, and allows one card per member every SHARE_COOLDOWN (kept by the `Sharing` cog).
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.cards import SHARE_COOLDOWN, Cooldown, share_refused_text, share_wait_text, shared_by, shared_card
from bot.domain.text import permission_name
from bot.errors import UserFacingError
from bot.render import card_embed
from bot.ui import ReportingDynamicItem, cog_for, library_of, persistent_view

PREFIX = "align"

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
    in_thread = getattr(interaction.channel, "type", None) in THREAD_TYPES
    needed = ("send_messages_in_threads" if in_thread else "send_messages", "embed_links")  # the card is an embed
    return [permission_name(flag) for flag in needed if not getattr(permissions, flag)]


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
            raise CannotShareHere(share_refused_text(missing))
        card = shared_card(library_of(interaction).store, self.kind, self.key)
        cog = cog_for(interaction, Sharing, "Sharing is unavailable right now; please try again later.")
        wait = cog.cooldown.try_use(interaction.user.id, cog.bot.clock.now())
        if wait is not None:
            raise SharingTooFast(share_wait_text(wait))
        await interaction.response.send_message(embed=card_embed(shared_by(card, interaction.user.display_name)))


def with_share(kind: str, key: str, *items: discord.ui.DynamicItem[Any]) -> discord.ui.View:
    """Return a view of `items` followed by a Share button."""
    return persistent_view(*items, ShareButton(kind, key))


class Sharing(commands.Cog):
    """Keeps the share cooldown and answers Share buttons, including those on messages sent before a restart."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.cooldown = Cooldown(SHARE_COOLDOWN)

    async def cog_load(self) -> None:
        """Register the persistent Share button."""
        self.bot.add_dynamic_items(ShareButton)

    async def cog_unload(self) -> None:
        """Stop listening for Share buttons."""
        self.bot.remove_dynamic_items(ShareButton)
