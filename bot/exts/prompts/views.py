"""The paged list of a server's prompts, for the admin who asked."""

from __future__ import annotations

from typing import Any

import discord

from bot.bot import AlignmentBot
from bot.domain.prompt_cards import PAGE_SIZE, page_count, queue_page_card
from bot.domain.prompts import PromptStatus
from bot.render import card_embed
from bot.ui import BaseView


class PromptPages(BaseView):
    """Previous / Next over a list of prompts."""

    def __init__(self, bot: AlignmentBot, guild_id: int, status: PromptStatus | None, total: int) -> None:
        super().__init__(timeout=600)
        self.bot, self.guild_id, self.status, self.total = bot, guild_id, status, total
        self.page = 0

    async def render(self) -> discord.Embed:
        """Build the embed for the current page and enable the right buttons."""
        prompts = await self.bot.db.prompts.list_prompts(
            self.guild_id, self.status, offset=self.page * PAGE_SIZE, limit=PAGE_SIZE
        )
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= page_count(self.total) - 1
        return card_embed(queue_page_card(prompts, self.status, self.page, self.total))

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Show the previous page."""
        self.page = max(self.page - 1, 0)
        await interaction.response.edit_message(embed=await self.render(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Show the next page."""
        self.page = min(self.page + 1, page_count(self.total) - 1)
        await interaction.response.edit_message(embed=await self.render(), view=self)
