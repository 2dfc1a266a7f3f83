"""Suggestions and their review: the suggestion form, the "Suggest a prompt" button on every post, Approve / Reject.

The buttons are persistent (their custom_id carries what they act on), so they work on messages sent before a
restart. The post's button doubles as the post's recovery marker (see recovery.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.bot import AlignmentBot
from bot.domain.prompt_cards import SUGGEST_BUTTON_LABEL, review_card
from bot.domain.prompt_errors import AlreadyReviewed, ReviewNotAllowed
from bot.domain.prompt_texts import UNAVAILABLE, review_decided, suggestion_received, verdict_message
from bot.domain.prompts import POST_MARKER_TEMPLATE, Prompt, PromptStatus, post_marker, similar_prompts
from bot.errors import UserFacingError
from bot.render import card_embed
from bot.ui import BaseModal, ReportingDynamicItem, persistent_view

log = logging.getLogger(__name__)

#: The name of the cog that owns the feature (bot/exts/prompts/commands.py, which imports this module).
PROMPTS_COG = "Prompts"


def review_embed(prompt: Prompt, similar: list[tuple[Prompt, float]], author: discord.abc.User | None) -> discord.Embed:
    """Render a suggestion for reviewers, with any near-duplicates and who suggested it."""
    return card_embed(review_card(prompt, similar, author.display_name if author else None))


class Suggestions:
    """Queue members' suggestions, show them to reviewers and apply the reviewers' decisions."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot

    async def similar_to(self, prompt: Prompt) -> list[tuple[Prompt, float]]:
        """Return the server's other prompts that say nearly the same thing as `prompt`."""
        existing = await self.bot.db.prompts.list_prompts(prompt.guild_id, None, limit=1000)
        return similar_prompts(prompt.text, [p for p in existing if p.id != prompt.id])

    async def submit(self, interaction: discord.Interaction[Any], text: str, title: str | None) -> None:
        """Queue a member's suggestion and send it to the review channel, flagging near-duplicates."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.add_prompt(
            guild_id=interaction.guild_id,
            text=text,
            title=title,
            concept_id=None,
            tags=(),
            author_id=interaction.user.id,
            status="suggested",
            now=self.bot.clock.now(),
        )
        similar = await self.similar_to(prompt)
        schedule = await self.bot.db.schedules.get_schedule(interaction.guild_id)
        review_channel = self.bot.get_channel(schedule.mod_channel_id) if schedule and schedule.mod_channel_id else None
        if isinstance(review_channel, discord.TextChannel):
            try:
                embed = review_embed(prompt, similar, interaction.user)
                await review_channel.send(embed=embed, view=review_view(prompt.id))
            except discord.HTTPException:
                log.warning(
                    "Could not post suggestion %s for review in %s (guild %s)",
                    prompt.id,
                    review_channel.id,
                    interaction.guild_id,
                )
        await interaction.response.send_message(suggestion_received(prompt.id, bool(similar)), ephemeral=True)

    async def decide(self, interaction: discord.Interaction[Any], prompt_id: int, approve: bool) -> None:
        """Approve or reject a suggestion (Manage Server) and tell the suggester."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise ReviewNotAllowed
        status: PromptStatus = "approved" if approve else "rejected"
        # Compare-and-set: of two moderators reviewing at once, only the first changes it (and the suggester
        # hears one verdict); the other is told who was first.
        prompt = await self.bot.db.prompts.review_prompt(interaction.guild_id, prompt_id, status, interaction.user.id)
        if prompt is None:
            current = await self.bot.db.prompts.get_prompt(interaction.guild_id, prompt_id)
            raise AlreadyReviewed(current.status, current.reviewed_by) if current else AlreadyReviewed()
        await interaction.response.edit_message(
            content=review_decided(prompt_id, approve, interaction.user.mention), view=None
        )
        if prompt.author_id:
            guild_name = interaction.guild.name if interaction.guild else None
            try:
                user = self.bot.get_user(prompt.author_id) or await self.bot.fetch_user(prompt.author_id)
                await user.send(verdict_message(guild_name, approve, prompt))
            except discord.HTTPException:
                log.info(
                    "Could not tell user %s about suggestion %s (guild %s)",
                    prompt.author_id,
                    prompt_id,
                    interaction.guild_id,
                )


def suggestions_for(interaction: discord.Interaction[Any]) -> Suggestions:
    """Return the suggestion flow, or tell the member that the feature is off (its cog is not loaded)."""
    client = interaction.client
    if not isinstance(client, AlignmentBot) or client.get_cog(PROMPTS_COG) is None:
        raise UserFacingError(UNAVAILABLE)
    return Suggestions(client)


class ReviewButton(
    ReportingDynamicItem[discord.ui.Button[Any]],
    template=r"align:prompt:review:(?P<id>\d+):(?P<action>approve|reject)",
):
    """Approve or reject a suggested prompt (Manage Server); the custom_id carries the prompt and action."""

    def __init__(self, prompt_id: int, action: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=action.title(),
                style=discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger,
                custom_id=f"align:prompt:review:{prompt_id}:{action}",
            )
        )
        self.prompt_id, self.action = prompt_id, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        """Rebuild the button from its custom_id."""
        return cls(int(match["id"]), match["action"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Apply the decision, update the review message, and tell the suggester."""
        await suggestions_for(interaction).decide(interaction, self.prompt_id, self.action == "approve")


def review_view(prompt_id: int) -> discord.ui.View:
    """Build the Approve / Reject buttons for a suggestion."""
    return persistent_view(ReviewButton(prompt_id, "approve"), ReviewButton(prompt_id, "reject"))


class SuggestButton(ReportingDynamicItem[discord.ui.Button[Any]], template=POST_MARKER_TEMPLATE):
    """The "Suggest a prompt" button under each post; its custom_id is also the post's recovery marker."""

    def __init__(self, post_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=SUGGEST_BUTTON_LABEL, style=discord.ButtonStyle.secondary, custom_id=post_marker(post_id)
            )
        )
        self.post_id = post_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestButton:
        """Rebuild the button from its custom_id."""
        return cls(int(match["post_id"]))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Open the suggestion form."""
        suggestions_for(interaction)  # refuses with a sentence while the feature is off
        await interaction.response.send_modal(SuggestModal())


def post_view(post_id: int) -> discord.ui.View:
    """Build the button that goes under a post (and marks it as that post's message)."""
    return persistent_view(SuggestButton(post_id))


class SuggestModal(BaseModal, title="Suggest a discussion prompt"):
    """The form members fill in to suggest a prompt."""

    prompt_title: discord.ui.TextInput[SuggestModal] = discord.ui.TextInput(
        label="Short title (optional)", custom_id="title", required=False, max_length=100
    )
    text: discord.ui.TextInput[SuggestModal] = discord.ui.TextInput(
        label="The question, with a sentence of setup",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        min_length=20,
        max_length=1000,
    )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Queue the suggestion for review."""
        await suggestions_for(interaction).submit(interaction, self.text.value, self.prompt_title.value or None)
