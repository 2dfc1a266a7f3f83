"""Fixtures for the fake's self-tests: a bare discord.py Client + CommandTree connected to the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest_asyncio
from discord import app_commands

from tests.fakediscord import Channel, FakeDiscord, Guild, Member, Permissions, connected_client
from tests.fakediscord.pytest_plugin import fake, fast_retries

__all__ = ["Env", "env", "fake", "fast_retries"]


class PanelView(discord.ui.View):
    """A persistent view (timeout=None, fixed custom_id) registered in setup_hook."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Ping", custom_id="panel:ping", style=discord.ButtonStyle.primary)
    async def ping(self, interaction: discord.Interaction, button: discord.ui.Button[PanelView]) -> None:
        await interaction.response.send_message(f"pong for {interaction.user.name}", ephemeral=True)

    @discord.ui.select(
        custom_id="panel:pick",
        options=[discord.SelectOption(label="Low", value="low"), discord.SelectOption(label="High", value="high")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PanelView]) -> None:
        await interaction.response.edit_message(content=f"picked {select.values[0]}")


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A modal with one text input."""

    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Your feedback", custom_id="feedback:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}")


@dataclass
class Env:
    """Everything a self-test needs."""

    fake: FakeDiscord
    guild: Guild
    alice: Member
    bob: Member
    general: Channel
    forum: Channel
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    errors: asyncio.Queue[BaseException] = field(default_factory=asyncio.Queue)
    inbox: asyncio.Queue[discord.Message] = field(default_factory=asyncio.Queue)

    def channel(self, ch: Channel) -> Any:
        """Return the client's cached channel object for a fake channel."""
        return self.client.get_channel(ch.id)


def build_bot(
    errors: asyncio.Queue[BaseException], inbox: asyncio.Queue[discord.Message] | None = None
) -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    """Build a bare client with a handful of commands exercising every response style."""
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    tree = app_commands.CommandTree(client)

    @client.event
    async def on_message(message: discord.Message) -> None:
        if inbox is not None:
            inbox.put_nowait(message)

    async def setup_hook() -> None:
        client.add_view(PanelView())

    client.setup_hook = setup_hook  # type: ignore[method-assign]

    @tree.command(description="About the bot")
    async def about(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Alignment bot: we read together.")

    pdoom = app_commands.Group(name="pdoom", description="P(doom) polls")

    @pdoom.command(name="open", description="Open a poll")
    async def pdoom_open(interaction: discord.Interaction, question: str, hours: int, anonymous: bool = False) -> None:
        embed = discord.Embed(title=question, description=f"closes in {hours}h, anonymous={anonymous}")
        await interaction.response.send_message(embed=embed)

    tree.add_command(pdoom)

    @tree.command(description="Think, then answer")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done thinking")
        await interaction.followup.send("and one more thing")

    @tree.command(description="Only for you")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("only you can see this", ephemeral=True)

    @tree.command(description="Look up a concept")
    async def concept(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"concept {name}")

    @concept.autocomplete("name")
    async def concept_name(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        matches = [f"{current}-{i}" for i in range(40)]
        return [app_commands.Choice(name=m, value=m) for m in matches][:25]

    @tree.command(description="Post the panel")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Panel", view=PanelView())

    @tree.command(description="Give feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @tree.command(description="Answers too late")
    async def late(interaction: discord.Interaction, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await interaction.response.send_message("too late?")
        except discord.HTTPException as exc:
            errors.put_nowait(exc)

    @tree.command(description="Acknowledges twice")
    async def double(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        # Simulate a second, independent handler answering the same interaction.
        interaction.response._response_type = None
        try:
            await interaction.response.send_message("second")
        except discord.HTTPException as exc:
            errors.put_nowait(exc)

    @tree.command(description="Read an uploaded file")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}: {data.decode()}")

    @tree.command(description="Describe a member, a channel and a role")
    async def inspect(
        interaction: discord.Interaction, who: discord.Member, where: discord.TextChannel, role: discord.Role
    ) -> None:
        await interaction.response.send_message(f"{who.name} in #{where.name} with @{role.name}")

    @tree.context_menu(name="Greet")
    async def greet(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"hello {member.name}")

    return client, tree


@pytest_asyncio.fixture
async def env(fake: FakeDiscord) -> AsyncIterator[Env]:
    """Provide a guild with alice (MANAGE_GUILD), bob, #general and a forum, and a connected, synced bot."""
    guild = fake.add_guild("Alignment Reading Group")
    alice = guild.add_member("alice", permissions=Permissions.MANAGE_GUILD)
    bob = guild.add_member("bob")
    general = guild.add_text_channel("general")
    forum = guild.add_forum_channel("prompts", tags=["weekly"])
    errors: asyncio.Queue[BaseException] = asyncio.Queue()
    inbox: asyncio.Queue[discord.Message] = asyncio.Queue()
    client, tree = build_bot(errors, inbox)
    async with connected_client(fake, client):
        await tree.sync()
        yield Env(fake, guild, alice, bob, general, forum, client, tree, errors, inbox)
