"""/prompts-admin's queue commands: add, edit, remove, list, preview, import, review and stats (Manage Server).

A part of the PromptsAdmin cog (admin.py), kept apart from the schedule commands so each module has one subject.
"""

from __future__ import annotations

from typing import cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.prompt_cards import prompt_card, stats_card
from bot.domain.prompt_errors import NoSuchPrompt, NothingPosted, NothingQueued, NothingToReview, UnknownConcept
from bot.domain.prompt_texts import preview_heading, prompt_added, prompt_retired, prompt_updated, starters_imported
from bot.domain.prompts import STATUSES, Prompt, PromptStatus, choose_next, parse_tags
from bot.exts.prompts.review import Suggestions, review_embed, review_view
from bot.exts.prompts.scheduler import PromptScheduler
from bot.exts.prompts.views import PromptPages
from bot.render import card_embed
from bot.ui import concept_autocomplete

STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in STATUSES]


class QueueAdmin(commands.Cog):
    """The queue half of /prompts-admin; only ever mixed into PromptsAdmin."""

    bot: AlignmentBot
    scheduler: PromptScheduler

    def _concept_id(self, name: str | None) -> str | None:
        if name is None:
            return None
        concept = self.bot.library.store.find(name)
        if concept is None:
            raise UnknownConcept(name)
        return concept.id

    async def _prompt(self, interaction: discord.Interaction, prompt_id: int) -> Prompt:
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.get_prompt(interaction.guild_id, prompt_id)
        if prompt is None:
            raise NoSuchPrompt(prompt_id)
        return prompt

    @app_commands.command(name="add")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        text="The question, with a sentence of setup",
        title="A short title",
        concept="Link a concept (its summary and readings appear under the prompt)",
        tags="Themes, comma-separated (used to avoid the same theme two weeks running)",
    )
    @app_commands.autocomplete(concept=concept_autocomplete)
    async def add(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 20, 1000],
        title: app_commands.Range[str, 1, 100] | None = None,
        concept: str | None = None,
        tags: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Add an approved prompt to the queue (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.add_prompt(
            guild_id=interaction.guild_id,
            text=text,
            title=title,
            concept_id=self._concept_id(concept),
            tags=parse_tags(tags),
            author_id=interaction.user.id,
            status="approved",
            now=self.bot.clock.now(),
        )
        similar = await Suggestions(self.bot).similar_to(prompt)
        reply = prompt_added(prompt.id, similar[0][0].id if similar else None)
        await interaction.response.send_message(reply, ephemeral=True)

    @app_commands.command(name="edit")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(concept=concept_autocomplete)
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.describe(prompt="The prompt number", status="Set approved to re-queue a posted prompt")
    async def edit(
        self,
        interaction: discord.Interaction,
        prompt: int,
        text: app_commands.Range[str, 20, 1000] | None = None,
        title: app_commands.Range[str, 1, 100] | None = None,
        concept: str | None = None,
        tags: app_commands.Range[str, 1, 200] | None = None,
        status: app_commands.Choice[str] | None = None,
    ) -> None:
        """Change a prompt's text, title, concept, themes or status (Manage Server)."""
        current = await self._prompt(interaction, prompt)
        updated = await self.bot.db.prompts.update_prompt(
            current.guild_id,
            current.id,
            text=text,
            title=title,
            concept_id=self._concept_id(concept),
            tags=parse_tags(tags) if tags else None,
            status=cast(PromptStatus, status.value) if status else None,
        )
        assert updated is not None  # noqa: S101 - it existed a moment ago
        await interaction.response.send_message(prompt_updated(updated), ephemeral=True)

    @app_commands.command(name="remove")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(prompt="The prompt number")
    async def remove(self, interaction: discord.Interaction, prompt: int) -> None:
        """Retire a prompt so it is never posted (Manage Server)."""
        current = await self._prompt(interaction, prompt)
        await self.bot.db.prompts.update_prompt(current.guild_id, current.id, status="retired")
        await interaction.response.send_message(prompt_retired(current.id), ephemeral=True)

    @app_commands.command(name="list")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_prompts(
        self, interaction: discord.Interaction, status: app_commands.Choice[str] | None = None
    ) -> None:
        """List the prompts in this server's queue, page by page (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        value = cast(PromptStatus, status.value) if status else None
        total = await self.bot.db.prompts.count_prompts(interaction.guild_id, value)
        view = PromptPages(self.bot, interaction.guild_id, value, total)
        await interaction.response.send_message(embed=await view.render(), view=view, ephemeral=True)

    @app_commands.command(name="preview")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(prompt="The prompt number (default: the one that would be posted next)")
    async def preview(self, interaction: discord.Interaction, prompt: int | None = None) -> None:
        """Show a prompt exactly as it will be posted (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        if prompt is None:
            approved = await self.bot.db.prompts.list_prompts(interaction.guild_id, "approved", limit=500)
            last = await self.bot.db.prompts.last_posted_prompt(interaction.guild_id)
            chosen = choose_next(approved, last.tags if last else ())
            if chosen is None:
                raise NothingQueued
        else:
            chosen = await self._prompt(interaction, prompt)
        embed = card_embed(prompt_card(chosen, self.bot.library.store, "preview"))
        await interaction.response.send_message(preview_heading(chosen), embed=embed, ephemeral=True)

    @app_commands.command(name="import")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def import_command(self, interaction: discord.Interaction) -> None:
        """Add the bot's starter prompts this server doesn't have yet (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        added = await self.scheduler.import_starters(interaction.guild_id)
        reply = starters_imported(added, len(self.bot.library.store.prompts))
        await interaction.response.send_message(reply, ephemeral=True)

    @app_commands.command(name="review")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def review(self, interaction: discord.Interaction) -> None:
        """Review the oldest waiting suggestion (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        waiting = await self.bot.db.prompts.list_prompts(interaction.guild_id, "suggested", limit=1)
        if not waiting:
            raise NothingToReview
        prompt = waiting[0]
        author = self.bot.get_user(prompt.author_id) if prompt.author_id else None
        embed = review_embed(prompt, await Suggestions(self.bot).similar_to(prompt), author)
        await interaction.response.send_message(embed=embed, view=review_view(prompt.id), ephemeral=True)

    @app_commands.command(name="stats")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def stats(self, interaction: discord.Interaction) -> None:
        """Show how much discussion each recent prompt got in its first week (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        rows = await self.bot.db.prompts.post_stats(interaction.guild_id)
        if not rows:
            raise NothingPosted
        await interaction.response.send_message(embed=card_embed(stats_card(rows)), ephemeral=True)
