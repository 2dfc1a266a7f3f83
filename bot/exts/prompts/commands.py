"""/prompts: what members do with weekly prompts (suggest one), and the feature's home cog.

The cog starts and stops the scheduler, registers the persistent buttons (the one under every post, and the
review buttons), and passes Discord's events on to the scheduler. Admin work is in /prompts-admin (admin.py).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.prompt_texts import MEMBER_GROUP
from bot.exts.prompts.review import PROMPTS_COG, ReviewButton, SuggestButton, SuggestModal
from bot.exts.prompts.scheduler import PromptScheduler


@app_commands.guild_only()
class Prompts(commands.GroupCog, name=PROMPTS_COG, group_name=MEMBER_GROUP):
    """Weekly discussion prompts."""

    def __init__(self, bot: AlignmentBot, scheduler: PromptScheduler) -> None:
        self.bot = bot
        self.scheduler = scheduler

    async def cog_load(self) -> None:
        """Listen for the persistent buttons and start the scheduler."""
        self.bot.add_dynamic_items(ReviewButton, SuggestButton)
        self.scheduler.start()

    async def cog_unload(self) -> None:
        """Stop the scheduler, letting a post that has begun finish and be recorded."""
        self.bot.remove_dynamic_items(ReviewButton, SuggestButton)
        await self.scheduler.stop()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Count discussion in prompt threads."""
        await self.scheduler.count_message(message)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Give a new server the starter prompts; resume its schedule if the bot was added back."""
        await self.scheduler.guild_joined(guild.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Pause the schedule of a server that removed the bot, so it doesn't fail every week."""
        await self.scheduler.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Post at once what waited for the server to come back from an outage."""
        self.scheduler.guild_available(guild.id)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """Post at once for the shard's servers that came back while it connected (their event may be lost)."""
        self.scheduler.shard_ready(shard_id)

    @app_commands.command(name="suggest")
    async def suggest(self, interaction: discord.Interaction) -> None:
        """Suggest a discussion prompt for the admins to review."""
        await interaction.response.send_modal(SuggestModal())
