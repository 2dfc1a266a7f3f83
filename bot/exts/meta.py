"""/help and /about: what the bot can do and what it is running."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

import bot as package
from bot.bot import AlignmentBot
from bot.domain.help import GENERAL, CommandEntry, about_card, help_card
from bot.render import card_embed


def command_entries(
    tree: app_commands.CommandTree[Any], viewer: discord.Permissions | None = None
) -> list[CommandEntry]:
    """List the invocable slash commands in the tree, with their section and whether they are for admins.

    Discord applies a command's default permissions per top-level command, so a subcommand is for admins exactly
    when its top-level group is. With `viewer` (someone's permissions), only the commands Discord lists to them.
    """
    entries = []
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        root = command.root_parent or command
        permissions = root.default_permissions
        if viewer is not None and permissions is not None and not permissions <= viewer:
            continue
        entries.append(
            CommandEntry(
                name=command.qualified_name,
                description=command.description.splitlines()[0] if command.description else "",
                section=f"/{root.name}" if command.root_parent else GENERAL,
                admin_only=bool(permissions and permissions.value),
            )
        )
    return entries


class Meta(commands.Cog):
    """Commands about the bot itself."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot

    @app_commands.command(name="help")
    async def help_command(self, interaction: discord.Interaction) -> None:
        """List the bot's commands with one line each."""
        # The same commands the member's own command picker shows them: admins also see the admin groups.
        card = help_card(command_entries(self.bot.tree, interaction.permissions))
        await interaction.response.send_message(embed=card_embed(card), ephemeral=True)

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """Show the bot's version, content, uptime and links."""
        card = about_card(
            version=package.__version__,
            uptime_seconds=self.bot.uptime(),
            servers=len(self.bot.guilds),
            stats=self.bot.library.store.stats(),
            source_url=self.bot.settings.source_url,
            own_shards=self.bot.own_shards,
        )
        await interaction.response.send_message(embed=card_embed(card), ephemeral=True)


async def setup(bot: commands.bot.BotBase) -> None:
    """Add the Meta cog."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(Meta(bot))
