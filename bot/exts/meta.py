"""/help and /about: what the bot can do and what it is running."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

import bot as package
from bot.bot import AlignmentBot
from bot.domain.help import CommandEntry, help_sections
from bot.domain.text import format_duration

EMBED_COLOUR = discord.Colour.from_rgb(88, 101, 242)
START_HERE_URL = "https://en.wikipedia.org/wiki/AI_alignment"


def command_entries(tree: app_commands.CommandTree[Any]) -> list[CommandEntry]:
    """List every invocable slash command in the tree, with its section and whether it is for admins."""
    entries = []
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        root = command.root_parent or command
        permissions = root.default_permissions
        entries.append(
            CommandEntry(
                name=command.qualified_name,
                description=command.description.splitlines()[0] if command.description else "",
                section=f"/{root.name}" if command.root_parent else "General",
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
        embed = discord.Embed(
            title="What I can do",
            description="Slash commands, grouped by feature. Type `/` and pick one to see its options.",
            colour=EMBED_COLOUR,
        )
        for title, text in help_sections(command_entries(self.bot.tree)):
            embed.add_field(name=title, value=text, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """Show the bot's version, content, uptime and links."""
        stats = self.bot.library.store.stats()
        embed = discord.Embed(
            title="About this bot",
            description=(
                "I help this server learn and argue about why aligning very capable AI is hard: "
                "concept summaries with readings, community P(Doom) polls, and weekly discussion prompts."
            ),
            colour=EMBED_COLOUR,
        )
        embed.add_field(name="Version", value=package.__version__)
        embed.add_field(name="Uptime", value=format_duration(self.bot.uptime()))
        embed.add_field(name="Servers", value=str(len(self.bot.guilds)))
        embed.add_field(
            name="Content",
            value=(
                f"{stats['concepts']} concepts · {stats['readings']} readings · {stats['steps']} essay steps\n"
                f"{stats['prompts']} starter prompts · {stats['estimates']} reference estimates"
            ),
            inline=False,
        )
        links = [f"[Start here: AI alignment]({START_HERE_URL})"]
        if self.bot.settings.source_url:
            links.append(f"[Source code]({self.bot.settings.source_url})")
        embed.add_field(name="Links", value=" · ".join(links), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    """Add the Meta cog."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(Meta(bot))
