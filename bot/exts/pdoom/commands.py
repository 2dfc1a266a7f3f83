"""/pdoom: what every member can do with the community P(doom) polls (results, history, their own estimates)."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts
from bot.bot import AlignmentBot
from bot.domain.pdoom import PollRound
from bot.domain.pdoom_cards import (
    FORGET_QUESTION,
    NO_HISTORY,
    early_results_refusal,
    history_card,
    no_round_text,
    round_history,
)
from bot.errors import UserFacingError, error_code
from bot.exts.pdoom.rounds import PollRounds, png_file
from bot.exts.pdoom.views import BucketButton, ConfirmForget, ExactButton, MineButton
from bot.render import card_embed

log = logging.getLogger(__name__)

COMPONENTS = (BucketButton, ExactButton, MineButton)


@app_commands.guild_only()
class PDoom(commands.GroupCog, group_name="pdoom"):
    """Community P(doom) polls."""

    def __init__(self, bot: AlignmentBot, rounds: PollRounds) -> None:
        self.bot, self.rounds = bot, rounds

    async def cog_load(self) -> None:
        """Listen for the poll and results buttons, also on messages posted before a restart."""
        self.bot.add_dynamic_items(*COMPONENTS)

    async def cog_unload(self) -> None:
        """Stop listening for the buttons."""
        self.bot.remove_dynamic_items(*COMPONENTS)

    async def _round_or_latest(self, guild_id: int, number: int | None) -> PollRound:
        polls = self.bot.db.polls
        poll = (
            await polls.get_round_by_number(guild_id, number)
            if number is not None
            else await polls.latest_round(guild_id)
        )
        if poll is None:
            raise UserFacingError(no_round_text(number))
        return poll

    @app_commands.command(name="results")
    @app_commands.rename(number="round")
    @app_commands.describe(number="The round number (default: the latest)")
    async def results(self, interaction: discord.Interaction, number: app_commands.Range[int, 1] | None = None) -> None:
        """Show a round's results (an open round's only if it shows them and you have answered)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        poll = await self._round_or_latest(interaction.guild_id, number)
        answered = (
            poll.is_open
            and poll.show_results_early
            and await self.bot.db.polls.current_answer(poll.id, interaction.user.id) is not None
        )
        if (refusal := early_results_refusal(poll, answered)) is not None:
            raise UserFacingError(refusal)
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, chart = await self.rounds.results_message(poll)
        await interaction.followup.send(embed=embed, file=chart or discord.utils.MISSING, ephemeral=True)

    @app_commands.command(name="history")
    async def history(self, interaction: discord.Interaction) -> None:
        """Show how the community's P(doom) moved across closed rounds."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        polls = self.bot.db.polls
        settings = await polls.pdoom_settings(interaction.guild_id)
        points = round_history(
            await polls.rounds(interaction.guild_id),
            await polls.answers_by_round(interaction.guild_id),
            settings.min_respondents,
        )
        if not points:
            raise UserFacingError(NO_HISTORY)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chart = None
        if any(p.results.summary is not None for p in points):
            try:
                chart = png_file(await asyncio.to_thread(charts.history_png, points), "history.png")
            except Exception:
                log.exception("Drawing the history of guild %s failed (error %s)", interaction.guild_id, error_code())
        embed = card_embed(history_card(points, chart=chart is not None))
        await interaction.followup.send(embed=embed, file=chart or discord.utils.MISSING, ephemeral=True)

    @app_commands.command(name="mine")
    async def mine(self, interaction: discord.Interaction) -> None:
        """Show your own estimates over time (only you see this)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        card = await self.rounds.own_estimates(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(embed=card_embed(card), ephemeral=True)

    @app_commands.command(name="forget")
    async def forget(self, interaction: discord.Interaction) -> None:
        """Delete all your estimates in this server."""
        await interaction.response.send_message(
            FORGET_QUESTION, view=ConfirmForget(self.rounds, interaction.user.id), ephemeral=True
        )
