"""/pdoom: community P(Doom) poll rounds with one-click buckets, typed estimates, results and history.

Reliability: a vote is committed before the member is told it was recorded; buttons are DynamicItems whose
custom_id carries the round id, so they work after a restart; the poll message is refreshed at most once per
REFRESH_INTERVAL however fast votes arrive; rounds whose closing time passed while the bot was down are closed
and their results posted once at start-up.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts
from bot.bot import AlignmentBot
from bot.clock import sleep_until_or_woken
from bot.domain.pdoom import (
    BUCKET_LABELS,
    Estimate,
    PollRound,
    RoundClosed,
    bucket_estimate,
    format_probability,
    history_points,
    parse_estimate,
    private_bins,
    summarize,
)
from bot.domain.pdoom_cards import (
    DEFAULT_DEFINITION,
    DEFAULT_HORIZON,
    DEFAULT_QUESTION,
    export_csv,
    poll_card,
    results_card,
    submissions_text,
)
from bot.errors import UserFacingError
from bot.render import card_embed
from bot.ui import BaseModal, BaseView, ReportingDynamicItem, cog_for

log = logging.getLogger(__name__)

REFRESH_INTERVAL = 3.0  # seconds between poll-message edits, however fast votes arrive
RETRY_AFTER = timedelta(minutes=5)  # when posting results failed for a passing reason
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")


def _cog(interaction: discord.Interaction[Any]) -> PDoom:
    return cog_for(interaction, PDoom, "Polls are not available right now; please try again in a minute.")


class Debouncer:
    """Runs `action(key)` at most once per `interval` per key, however often `mark(key)` is called."""

    def __init__(self, interval: float, action: Callable[[int], Awaitable[None]]) -> None:
        self.interval = interval
        self._action = action
        self._waiting: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_run: dict[int, float] = {}

    def mark(self, key: int) -> None:
        """Ask for `action(key)` to run soon (once, whatever else is marked meanwhile)."""
        if key not in self._waiting:
            self._waiting.add(key)
            task = asyncio.create_task(self._run(key), name=f"debounce-{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, key: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            wait = self._last_run.get(key, -self.interval) + self.interval - loop.time()
            await asyncio.sleep(max(wait, 0.0))
        finally:
            # Votes arriving from here on schedule the next run, so none is missed.
            self._waiting.discard(key)
        self._last_run[key] = loop.time()
        try:
            await self._action(key)
        except Exception:
            log.exception("Refreshing poll %s failed", key)

    async def close(self) -> None:
        """Cancel waiting and running actions (the bot is shutting down)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


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
        await _cog(interaction).record(interaction, self.round_id, bucket_estimate(self.bucket), "button")


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
        placeholder="e.g. 15%, 0.15, 1 in 30, <1%, 10-25%",
        max_length=40,
    )

    def __init__(self, round_id: int) -> None:
        super().__init__(custom_id=f"align:pdoom:modal:{round_id}")
        self.round_id = round_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Parse and record; bad input gets a sentence and stores nothing."""
        estimate = parse_estimate(self.estimate.value)
        await _cog(interaction).record(interaction, self.round_id, estimate, "typed")


def poll_view(round_id: int) -> discord.ui.View:
    """Build the buttons under a poll message."""
    view = discord.ui.View(timeout=None)
    for bucket in range(len(BUCKET_LABELS)):
        view.add_item(BucketButton(round_id, bucket))
    view.add_item(ExactButton(round_id))
    return view


class ConfirmForget(BaseView):
    """Asks a member to confirm deleting their estimates."""

    def __init__(self, cog: PDoom, user_id: int) -> None:
        super().__init__(timeout=120)
        self.cog, self.user_id = cog, user_id

    @discord.ui.button(label="Delete my estimates", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Delete and say how many."""
        assert interaction.guild_id is not None  # noqa: S101 - /pdoom is guild-only
        self.stop()
        deleted = await self.cog.bot.db.forget_member(interaction.guild_id, self.user_id)
        for poll in await self.cog.bot.db.open_rounds():
            if poll.guild_id == interaction.guild_id:
                self.cog.refresher.mark(poll.id)
        await interaction.response.edit_message(content=f"Deleted {deleted} estimate(s).", view=None)

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Do nothing."""
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


def _png_file(data: bytes, name: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name)


@app_commands.guild_only()
class PDoom(commands.GroupCog, group_name="pdoom"):
    """Community P(doom) polls."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.refresher = Debouncer(REFRESH_INTERVAL, self.refresh_poll_message)
        self._rounds: dict[int, PollRound] = {}  # rounds rarely change; votes read them from here
        self._posting = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closer: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Listen for poll buttons (also on old messages) and start closing rounds on time."""
        self.bot.add_dynamic_items(BucketButton, ExactButton)
        self._closer = asyncio.create_task(self._close_due_rounds_forever(), name="pdoom-closer")

    async def cog_unload(self) -> None:
        """Stop the closer and pending refreshes, letting a results post that has begun be recorded first."""
        self.bot.remove_dynamic_items(BucketButton, ExactButton)
        async with self._posting:
            if self._closer is not None:
                self._closer.cancel()
                await asyncio.gather(self._closer, return_exceptions=True)
        await self.refresher.close()

    # --- rounds and votes ---

    async def round_in_guild(self, round_id: int, guild_id: int | None) -> PollRound:
        """Return a round of this server (cached), or refuse."""
        poll = self._rounds.get(round_id) or await self.bot.db.get_round(round_id)
        if poll is None or poll.guild_id != guild_id:
            raise UserFacingError("This poll no longer exists.")
        self._rounds[round_id] = poll
        return poll

    async def record(
        self, interaction: discord.Interaction[Any], round_id: int, estimate: Estimate, source: str
    ) -> None:
        """Store a member's estimate, then (and only then) confirm it to them privately."""
        poll = await self.round_in_guild(round_id, interaction.guild_id)
        try:
            await self.bot.db.record_vote(
                round_id=poll.id,
                user_id=interaction.user.id,
                value=estimate.value,
                raw=estimate.raw,
                source=source,
                now=self.bot.clock.now(),
            )
        except RoundClosed:
            self._rounds.pop(round_id, None)  # the cached copy still says open
            raise RoundClosed(poll.number) from None
        text = f"Recorded your estimate for round {poll.number}: **{format_probability(estimate.value)}**."
        if source == "typed" and estimate.raw != format_probability(estimate.value):
            text += f" (You wrote “{discord.utils.escape_markdown(estimate.raw)}”.)"
        if estimate.note:
            text += f"\n{estimate.note}"
        if poll.show_results_early:
            summary = summarize(list((await self.bot.db.current_answers(poll.id)).values()))
            if summary is not None:
                text += (
                    f"\nSo far: median **{format_probability(summary.median)}**, middle half "
                    f"{format_probability(summary.q1)}–{format_probability(summary.q3)}, {summary.n} member(s)."
                )
        await interaction.response.send_message(text, ephemeral=True)
        self.refresher.mark(poll.id)

    async def refresh_poll_message(self, round_id: int) -> None:
        """Edit the poll message to show the current count (and aggregates, if the round shows them)."""
        poll = await self.bot.db.get_round(round_id)
        if poll is None or poll.message_id is None:
            return
        answers = await self.bot.db.current_answers(poll.id)
        summary = None if poll.is_open else summarize(list(answers.values()))
        embed = card_embed(poll_card(poll, len(answers), summary))
        message = self.bot.get_partial_messageable(poll.channel_id).get_partial_message(poll.message_id)
        try:
            await message.edit(embed=embed, view=None if not poll.is_open else discord.utils.MISSING)
        except (discord.NotFound, discord.Forbidden):
            log.warning("Poll message of round %s in channel %s is gone or not editable", poll.id, poll.channel_id)

    async def results_payload(self, poll: PollRound) -> tuple[discord.Embed, discord.File | None]:
        """Build a round's results embed and, with at least 3 answers, its histogram (drawn off the loop)."""
        answers = list((await self.bot.db.current_answers(poll.id)).values())
        embed = card_embed(results_card(poll, answers, self.bot.library.store.estimates))
        bins, summary = private_bins(answers), summarize(answers)
        if not bins or summary is None:
            return embed, None
        png = await asyncio.to_thread(charts.histogram_png, bins, summary, poll.question)
        embed.set_image(url="attachment://pdoom.png")
        return embed, _png_file(png, "pdoom.png")

    async def close_and_post(self, poll: PollRound) -> None:
        """Close a round if open and post its results once; safe to call from several places at once."""
        async with self._posting:
            now = self.bot.clock.now()
            if poll.is_open:
                await self.bot.db.close_round(poll.id, now)
            current = await self.bot.db.get_round(poll.id)
            if current is None or current.results_message_id is not None:
                return
            self._rounds[current.id] = current
            channel = self.bot.get_partial_messageable(current.channel_id)
            # Closed by an earlier run that may have died between posting and recording: look before posting.
            title = results_card(current, [], ()).title
            posted = (
                None
                if poll.is_open
                else await self.bot.find_own_message(current.channel_id, lambda e: e.title == title)
            )
            if posted is not None:
                await self.bot.db.set_results_message(current.id, posted.id)
                return
            embed, chart = await self.results_payload(current)
            try:
                message = await channel.send(embed=embed, file=chart or discord.utils.MISSING)
            except (discord.NotFound, discord.Forbidden) as error:
                # The channel is gone or closed to us: record that, so we don't retry forever.
                log.warning("Could not post results of round %s in %s: %s", current.id, current.channel_id, error)
                await self.bot.db.set_results_message(current.id, 0)
                return
            await self.bot.db.set_results_message(current.id, message.id)
            log.info("Posted results of round %s (guild %s)", current.id, current.guild_id)
        await self.refresh_poll_message(current.id)

    async def _close_due_rounds_forever(self) -> None:
        """Close rounds when their time comes; at start-up, catch up on rounds that came due while we were down."""
        await self.bot.wait_until_ready()
        retry_at: datetime | None = None
        while True:
            now = self.bot.clock.now()
            for poll in await self.bot.db.rounds_due(now):
                try:
                    await self.close_and_post(poll)
                except Exception:
                    # Discord hiccups must not stop the closer, nor make it spin: retry in a few minutes.
                    log.exception("Posting results of round %s failed; retrying later", poll.id)
                    retry_at = now + RETRY_AFTER
            moments = [m for m in (await self.bot.db.next_closing_time(), retry_at) if m is not None]
            await sleep_until_or_woken(self.bot.clock, min(moments, default=None), self._wake)
            if retry_at is not None and self.bot.clock.now() >= retry_at:
                retry_at = None

    # --- commands ---

    @app_commands.command(name="open")
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
        missing = [p for p in POST_PERMISSIONS if not getattr(interaction.app_permissions, p)]
        if missing:
            names = ", ".join(p.replace("_", " ").title() for p in missing)
            raise UserFacingError(f"I need {names} in this channel to post a poll.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock.now()
        poll = await self.bot.db.open_round(
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
            message = await channel.send(embed=card_embed(poll_card(poll, 0, None)), view=poll_view(poll.id))
        except discord.HTTPException:
            await self.bot.db.delete_round(poll.id)
            raise
        await self.bot.db.set_round_message(poll.id, message.id)
        self._wake.set()
        await interaction.followup.send(f"Round {poll.number} is open: {message.jump_url}", ephemeral=True)

    @app_commands.command(name="close")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def close(self, interaction: discord.Interaction) -> None:
        """Close the open round now and post its results (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        poll = await self.bot.db.open_round_for_guild(interaction.guild_id)
        if poll is None:
            raise UserFacingError("No round is open in this server.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.close_and_post(poll)
        await interaction.followup.send(f"Round {poll.number} is closed and its results are posted.", ephemeral=True)

    async def _round_or_latest(self, guild_id: int, number: int | None) -> PollRound:
        poll = (
            await self.bot.db.get_round_by_number(guild_id, number)
            if number is not None
            else await self.bot.db.latest_round(guild_id)
        )
        if poll is None:
            raise UserFacingError(f"There is no round {number} in this server." if number else "No round yet.")
        return poll

    @app_commands.command(name="results")
    @app_commands.rename(number="round")
    @app_commands.describe(number="The round number (default: the latest)")
    async def results(self, interaction: discord.Interaction, number: app_commands.Range[int, 1] | None = None) -> None:
        """Show a round's results (an open round's only if it shows them and you have answered)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        poll = await self._round_or_latest(interaction.guild_id, number)
        if poll.is_open:
            if not poll.show_results_early:
                raise UserFacingError(f"Round {poll.number} shows its results when it closes, so nobody is anchored.")
            if await self.bot.db.current_answer(poll.id, interaction.user.id) is None:
                raise UserFacingError(f"Answer round {poll.number} first; then you can see where everyone stands.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, chart = await self.results_payload(poll)
        await interaction.followup.send(embed=embed, file=chart or discord.utils.MISSING, ephemeral=True)

    @app_commands.command(name="history")
    async def history(self, interaction: discord.Interaction) -> None:
        """Show how the community's P(doom) moved across closed rounds."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        closed = [p for p in await self.bot.db.rounds(interaction.guild_id) if not p.is_open]
        answers = await self.bot.db.answers_by_round(interaction.guild_id)
        points = history_points([(p.number, f"{p.opened_at:%b %Y}", answers.get(p.id, {})) for p in closed])
        if not points:
            raise UserFacingError("No closed round has answers yet; history starts after the first round closes.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        png = await asyncio.to_thread(charts.history_png, points)
        lines = [
            f"**Round {p.number}** ({p.label}): median {format_probability(p.summary.median)}, "
            f"middle half {format_probability(p.summary.q1)}–{format_probability(p.summary.q3)}, n={p.summary.n}"
            for p in points
        ]
        embed = discord.Embed(title="P(doom) across rounds", description="\n".join(lines)[:4000])
        embed.set_image(url="attachment://history.png")
        await interaction.followup.send(embed=embed, file=_png_file(png, "history.png"), ephemeral=True)

    @app_commands.command(name="mine")
    async def mine(self, interaction: discord.Interaction) -> None:
        """Show your own estimates over time (only you see this)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        submissions = await self.bot.db.submissions(interaction.guild_id, interaction.user.id)
        embed = discord.Embed(title="Your P(doom) estimates", description=submissions_text(submissions))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="forget")
    async def forget(self, interaction: discord.Interaction) -> None:
        """Delete all your estimates in this server."""
        await interaction.response.send_message(
            "Delete every P(doom) estimate you gave in this server? This cannot be undone.",
            view=ConfirmForget(self, interaction.user.id),
            ephemeral=True,
        )

    @app_commands.command(name="export")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def export(self, interaction: discord.Interaction) -> None:
        """Download every round's aggregate results as CSV (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        rounds = await self.bot.db.rounds(interaction.guild_id)
        if not rounds:
            raise UserFacingError("No rounds to export yet.")
        text = export_csv(rounds, await self.bot.db.answers_by_round(interaction.guild_id))
        await interaction.response.send_message(
            "Aggregates only: no individual answers are included.",
            file=discord.File(io.BytesIO(text.encode()), filename="pdoom-rounds.csv"),
            ephemeral=True,
        )


async def setup(bot: commands.Bot) -> None:
    """Add the PDoom cog."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(PDoom(bot))
