"""/pdoom-admin: running P(doom) poll rounds (Manage Server): open, close, export, settings.

A top-level group of its own, because Discord hides commands from members only per top-level command
(`default_permissions`); the run-time permission checks stay as a second line.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.pdoom import MAX_MIN_RESPONDENTS, MIN_RESPONDENTS_FLOOR
from bot.domain.pdoom_cards import (
    DEFAULT_DEFINITION,
    DEFAULT_HORIZON,
    DEFAULT_QUESTION,
    NO_OPEN_ROUND,
    NOTHING_TO_EXPORT,
    close_reply,
    export_csv,
    export_note,
    opened_text,
    poll_card,
    settings_text,
)
from bot.errors import UserFacingError
from bot.exts.pdoom.closer import RoundCloser
from bot.exts.pdoom.rounds import PollRounds
from bot.exts.pdoom.views import poll_view
from bot.render import card_embed

log = logging.getLogger(__name__)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class PDoomAdmin(commands.GroupCog, group_name="pdoom-admin"):
    """Run P(doom) poll rounds (Manage Server)."""

    def __init__(self, bot: AlignmentBot, rounds: PollRounds, closer: RoundCloser) -> None:
        self.bot, self.rounds, self.closer = bot, rounds, closer

    @app_commands.command(name="open")
    # Checks run bottom-up: whether the member may open a round comes before what the bot may do in the channel.
    @app_commands.checks.bot_has_permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        question="The question on the poll",
        doom="What counts as doom",
        horizon="The time frame",
        closes_in_hours="Close automatically after this many hours (leave empty to close by hand)",
        show_results="Show the aggregate to members who have answered, before the round closes",
    )
    async def open_round(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 200] = DEFAULT_QUESTION,
        doom: app_commands.Range[str, 1, 300] = DEFAULT_DEFINITION,
        horizon: app_commands.Range[str, 1, 100] = DEFAULT_HORIZON,
        closes_in_hours: app_commands.Range[int, 1, 2160] | None = None,
        show_results: bool = False,
    ) -> None:
        """Open a P(doom) poll round in this channel (Manage Server)."""
        assert interaction.guild_id is not None and interaction.channel_id is not None  # noqa: S101 - guild-only
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock.now()
        poll = await self.bot.db.polls.open_round(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            question=question,
            doom_definition=doom,
            horizon=horizon,
            show_results_early=show_results,
            opened_by=interaction.user.id,
            now=now,
            closes_at=now + timedelta(hours=closes_in_hours) if closes_in_hours else None,
        )
        channel = self.bot.get_partial_messageable(interaction.channel_id)
        try:
            message = await channel.send(embed=card_embed(poll_card(poll, 0)), view=poll_view(poll.id))
        except discord.HTTPException:
            await self.bot.db.polls.delete_round(poll.id)
            self.rounds.forget_round(poll.id)
            raise
        await self.bot.db.polls.set_round_message(poll.id, message.id)
        self.closer.wake()
        await interaction.followup.send(opened_text(poll.number, message.jump_url), ephemeral=True)

    @app_commands.command(name="close")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def close(self, interaction: discord.Interaction) -> None:
        """Close the open round now and post its results (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        polls = self.bot.db.polls
        poll = await polls.open_round_for_guild(interaction.guild_id)
        if poll is None:
            # A closed round whose results are still waiting: this is the admin asking to try again now.
            latest = await polls.latest_round(interaction.guild_id)
            if latest is None or latest.close_finished:
                raise UserFacingError(NO_OPEN_ROUND)
            poll = latest
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = close_reply(await self.closer.close_and_post(poll))
        except Exception as error:
            current = await polls.get_round(poll.id)
            if current is None or current.is_open:
                raise  # the close itself failed: the round is still open, and the error handler says something failed
            code = self.closer.retry_later(poll)
            self.closer.wake()  # so it plans the retry
            text = close_reply(current, discord_busy=isinstance(error, discord.HTTPException), error_code=code)
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="export")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def export(self, interaction: discord.Interaction) -> None:
        """Download every round's aggregate results as CSV (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        polls = self.bot.db.polls
        rounds = await polls.rounds(interaction.guild_id)
        if not rounds:
            raise UserFacingError(NOTHING_TO_EXPORT)
        settings = await polls.pdoom_settings(interaction.guild_id)
        text = export_csv(rounds, await polls.answers_by_round(interaction.guild_id), settings.min_respondents)
        await interaction.response.send_message(
            export_note(settings.min_respondents),
            file=discord.File(io.BytesIO(text.encode()), filename="pdoom-rounds.csv"),
            ephemeral=True,
        )

    @app_commands.command(name="settings")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        min_respondents=f"Show a round's results only once this many members answered ({MIN_RESPONDENTS_FLOOR} or "
        "more; default 5)"
    )
    async def settings_command(
        self,
        interaction: discord.Interaction,
        min_respondents: app_commands.Range[int, MIN_RESPONDENTS_FLOOR, MAX_MIN_RESPONDENTS] | None = None,
    ) -> None:
        """See or change this server's poll settings (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        if min_respondents is None:
            settings = await self.bot.db.polls.pdoom_settings(interaction.guild_id)
        else:
            settings = await self.bot.db.polls.set_pdoom_min_respondents(interaction.guild_id, min_respondents)
            log.info("Guild %s set min_respondents to %s", interaction.guild_id, min_respondents)
        await interaction.response.send_message(settings_text(settings), ephemeral=True)
