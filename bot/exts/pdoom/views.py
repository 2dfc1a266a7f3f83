"""The P(Doom) components: poll buttons, the exact-value form, the results post's button, the forget confirmation.

Buttons are DynamicItems whose custom_id carries the round id, so they keep working on old messages after a
restart; they find the shared `PollRounds` through the bot at click time.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.domain.pdoom import BUCKET_LABELS, PLACEHOLDER, bucket_estimate, parse_estimate
from bot.domain.pdoom_cards import NOTHING_FORGOTTEN, POLLS_UNAVAILABLE, forgotten_text, results_marker
from bot.exts.pdoom.rounds import PollRounds
from bot.render import card_embed
from bot.ui import BaseModal, BaseView, ReportingDynamicItem, cog_for, persistent_view


def _rounds(interaction: discord.Interaction[Any]) -> PollRounds:
    return cog_for(interaction, PollRounds, POLLS_UNAVAILABLE)


class BucketButton(
    ReportingDynamicItem[discord.ui.Button[Any]], template=r"align:pdoom:b:(?P<round>\d+):(?P<bucket>\d+)"
):
    """One click records the midpoint of a range."""

    def __init__(self, round_id: int, bucket: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=BUCKET_LABELS[bucket],
                style=discord.ButtonStyle.primary,
                custom_id=f"align:pdoom:b:{round_id}:{bucket}",
                row=bucket // 4,
            )
        )
        self.round_id, self.bucket = round_id, bucket

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BucketButton:
        """Rebuild the button from its custom_id."""
        bucket = int(match["bucket"])
        return cls(int(match["round"]), bucket if bucket < len(BUCKET_LABELS) else 0)

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Record the bucket's estimate."""
        await _rounds(interaction).record(interaction, self.round_id, bucket_estimate(self.bucket), "button")


class ExactButton(ReportingDynamicItem[discord.ui.Button[Any]], template=r"align:pdoom:exact:(?P<round>\d+)"):
    """Opens a form to type an exact estimate."""

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Type an exact value…",
                style=discord.ButtonStyle.secondary,
                custom_id=f"align:pdoom:exact:{round_id}",
                row=2,
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExactButton:
        """Rebuild the button from its custom_id."""
        return cls(int(match["round"]))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Open the form."""
        await interaction.response.send_modal(EstimateModal(self.round_id))


class EstimateModal(BaseModal, title="Your P(doom)"):
    """A one-field form for an exact estimate."""

    estimate: discord.ui.TextInput[EstimateModal] = discord.ui.TextInput(
        label="Probability of doom",
        custom_id="estimate",
        placeholder=PLACEHOLDER,
        max_length=40,
    )

    def __init__(self, round_id: int) -> None:
        super().__init__(custom_id=f"align:pdoom:modal:{round_id}")
        self.round_id = round_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Parse and record; bad input gets a sentence and stores nothing."""
        estimate = parse_estimate(self.estimate.value)
        await _rounds(interaction).record(interaction, self.round_id, estimate, "typed")


def poll_view(round_id: int) -> discord.ui.View:
    """Build the buttons under a poll message."""
    buckets = [BucketButton(round_id, bucket) for bucket in range(len(BUCKET_LABELS))]
    return persistent_view(*buckets, ExactButton(round_id))


class MineButton(ReportingDynamicItem[discord.ui.Button[Any]], template=r"align:pdoom:mine:(?P<round>\d+)"):
    """Under a results post: shows the clicker their own estimates, privately. Its custom_id marks the post as ours."""

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="My estimates", style=discord.ButtonStyle.secondary, custom_id=results_marker(round_id)
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MineButton:
        """Rebuild the button from its custom_id."""
        return cls(int(match["round"]))

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Show the clicker their estimates in this server, like /pdoom mine."""
        assert interaction.guild_id is not None  # noqa: S101 - results are only posted in servers
        card = await _rounds(interaction).own_estimates(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(embed=card_embed(card), ephemeral=True)


def results_view(round_id: int) -> discord.ui.View:
    """Build the button under a round's results post."""
    return persistent_view(MineButton(round_id))


class ConfirmForget(BaseView):
    """Asks a member to confirm deleting their estimates."""

    def __init__(self, rounds: PollRounds, user_id: int) -> None:
        super().__init__(timeout=120)
        self.rounds, self.user_id = rounds, user_id

    @discord.ui.button(label="Delete my estimates", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Delete and say how many."""
        assert interaction.guild_id is not None  # noqa: S101 - /pdoom is guild-only
        self.stop()
        polls = self.rounds.bot.db.polls
        deleted = await polls.forget_member(interaction.guild_id, self.user_id)
        if (poll := await polls.open_round_for_guild(interaction.guild_id)) is not None:
            self.rounds.refresher.mark(poll.id)  # its count may have dropped
        await interaction.response.edit_message(content=forgotten_text(deleted), view=None)

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Do nothing."""
        self.stop()
        await interaction.response.edit_message(content=NOTHING_FORGOTTEN, view=None)
