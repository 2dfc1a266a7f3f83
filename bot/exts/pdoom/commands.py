"""/pdoom: community P(Doom) poll rounds with one-click buckets, typed estimates, results and history.

Reliability: a vote is committed before the member is told it was recorded; buttons are DynamicItems whose
custom_id carries the round id, so they work after a restart; the poll message is refreshed at most once per
REFRESH_INTERVAL however fast votes arrive. Closing a round has three steps (close, post and record the results,
show the poll message closed); a supervised background loop finishes every step that is not done, at the closing
time, after a failure (with backoff) and after a restart, and never posts results twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts
from bot.background import STOP_GRACE, BackgroundLoop, backoff
from bot.bot import AlignmentBot
from bot.domain.pdoom import (
    BUCKET_LABELS,
    MAX_MIN_RESPONDENTS,
    MIN_RESPONDENTS_FLOOR,
    PLACEHOLDER,
    Estimate,
    PollRound,
    PublicResults,
    RoundClosed,
    bucket_estimate,
    format_probability,
    history_points,
    parse_estimate,
    public_results,
)
from bot.domain.pdoom_cards import (
    DEFAULT_DEFINITION,
    DEFAULT_HORIZON,
    DEFAULT_QUESTION,
    export_csv,
    history_lines,
    poll_card,
    results_card,
    results_title,
    settings_text,
    so_far_text,
    submissions_text,
)
from bot.errors import UserFacingError, error_code
from bot.faults import is_transient
from bot.render import card_embed
from bot.ui import BaseModal, BaseView, ReportingDynamicItem, cog_for

log = logging.getLogger(__name__)

REFRESH_INTERVAL = 3.0  # seconds between poll-message edits, however fast votes arrive
# A close that failed half-way (Discord down, database locked) is retried after 1, 2, 4, … minutes, at most 30 apart.
CLOSE_FIRST_RETRY = timedelta(minutes=1)
CLOSE_MAX_RETRY = timedelta(minutes=30)
CLOSE_TIMEOUT = 120.0  # seconds one round's close may take in a pass before it is retried later
CLOSE_CONCURRENCY = 8  # rounds closed at once in a pass
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
        placeholder=PLACEHOLDER,
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
        deleted = await self.cog.bot.db.polls.forget_member(interaction.guild_id, self.user_id)
        for poll in await self.cog.bot.db.polls.open_rounds():
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


@dataclass(frozen=True, slots=True)
class CloseRetry:
    """A round whose close failed half-way: how many times in a row, and when to try again."""

    failures: int
    at: datetime


@app_commands.guild_only()
class PDoom(commands.GroupCog, group_name="pdoom"):
    """Community P(doom) polls."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.refresher = Debouncer(REFRESH_INTERVAL, self.refresh_poll_message)
        self._rounds: dict[int, PollRound] = {}  # rounds rarely change; votes read them from here
        # One close at a time per server (a round's close and its poll-message edits), never across servers.
        self._closing: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._retries: dict[int, CloseRetry] = {}  # round id -> when to retry its close
        self.closer = BackgroundLoop("pdoom-closer", self.close_due_rounds, bot.clock, ready=bot.wait_until_ready)

    async def cog_load(self) -> None:
        """Listen for poll buttons (also on old messages) and start closing rounds on time."""
        self.bot.add_dynamic_items(BucketButton, ExactButton)
        self.closer.start()

    async def cog_unload(self) -> None:
        """Stop the closer and pending refreshes, letting a results post that has begun be recorded first."""
        self.bot.remove_dynamic_items(BucketButton, ExactButton)
        await self.closer.stop()
        try:  # a close begun by /pdoom close finishes too, within the same bound as the closer's
            async with asyncio.timeout(STOP_GRACE):
                for lock in list(self._closing.values()):
                    async with lock:
                        pass
        except TimeoutError:
            log.warning("A round's close was still running at shutdown; it resumes at the next start")
        await self.refresher.close()

    # --- rounds and votes ---

    async def round_in_guild(self, round_id: int, guild_id: int | None) -> PollRound:
        """Return a round of this server (cached), or refuse."""
        poll = self._rounds.get(round_id) or await self.bot.db.polls.get_round(round_id)
        if poll is None or poll.guild_id != guild_id:
            raise UserFacingError("This poll no longer exists.")
        self._rounds[round_id] = poll
        return poll

    async def public_results(self, poll: PollRound) -> PublicResults:
        """Return what may be shown of a round's current answers under its server's minimum respondents."""
        answers = await self.bot.db.polls.current_answers(poll.id)
        settings = await self.bot.db.polls.pdoom_settings(poll.guild_id)
        return public_results(list(answers.values()), settings.min_respondents)

    async def record(
        self, interaction: discord.Interaction[Any], round_id: int, estimate: Estimate, source: str
    ) -> None:
        """Store a member's estimate, then (and only then) confirm it to them privately."""
        poll = await self.round_in_guild(round_id, interaction.guild_id)
        try:
            await self.bot.db.polls.record_vote(
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
            text += f"\n{so_far_text(await self.public_results(poll))}"
        await interaction.response.send_message(text, ephemeral=True)
        self.refresher.mark(poll.id)

    async def refresh_poll_message(self, round_id: int) -> None:
        """Edit the poll message to show the current count (and, once closed, the public results)."""
        poll = await self.bot.db.polls.get_round(round_id)
        if poll is None:
            return
        # Under the closing lock: a refresh that read the round as open must not land after the close's edit.
        async with self._closing[poll.guild_id]:
            poll = await self.bot.db.polls.get_round(round_id)
            if poll is not None:
                await self.edit_poll_message(poll)

    async def edit_poll_message(self, poll: PollRound) -> None:
        """Show a round's state on its poll message; a message that is gone or not ours to edit is left alone."""
        if poll.message_id is None:
            return
        results = await self.public_results(poll)
        embed = card_embed(poll_card(poll, results.respondents, None if poll.is_open else results))
        message = self.bot.get_partial_messageable(poll.channel_id).get_partial_message(poll.message_id)
        try:
            await message.edit(embed=embed, view=None if not poll.is_open else discord.utils.MISSING)
        except (discord.NotFound, discord.Forbidden):
            log.warning("Poll message of round %s in channel %s is gone or not editable", poll.id, poll.channel_id)

    async def results_payload(self, poll: PollRound) -> tuple[discord.Embed, discord.File | None]:
        """Build a round's results embed and, when its aggregates are public, its histogram (drawn off the loop).

        A chart that cannot be drawn never stops the results: they go out without it, and the error is logged.
        """
        results = await self.public_results(poll)
        embed = card_embed(results_card(poll, results, self.bot.library.store.estimates))
        if results.summary is None or not results.bins:
            return embed, None
        try:
            png = await asyncio.to_thread(charts.histogram_png, results.bins, results.summary, poll.question)
        except Exception:
            log.exception(
                "Drawing the chart of round %s failed (error %s); showing results without it", poll.id, error_code()
            )
            return embed, None
        embed.set_image(url="attachment://pdoom.png")
        return embed, _png_file(png, "pdoom.png")

    # --- closing ---

    async def close_and_post(self, poll: PollRound) -> PollRound:
        """Close a round if open and finish every step of its close not done yet; return the round as it ends up.

        The steps: close; post the results once and record where (0 when Discord refuses for good); edit the poll
        message to its closed state and record that. Safe to call from several places at once, and after a crash
        at any point. Raises when a step failed for a reason that may pass; calling again resumes from that step.
        """
        async with self._closing[poll.guild_id]:
            if poll.is_open:
                await self.bot.db.polls.close_round(poll.id, self.bot.clock.now())
            current = await self.bot.db.polls.get_round(poll.id)
            if current is None:  # deleted meanwhile: nothing left to finish
                return poll
            self._rounds[current.id] = current
            if current.results_message_id is None:
                # Closed by an earlier call that may have died between posting and recording: look before posting.
                message_id = await self._post_results(current, look_first=not poll.is_open)
                await self.bot.db.polls.set_results_message(current.id, message_id)
                current = replace(current, results_message_id=message_id)
            if not current.poll_message_closed:
                await self.edit_poll_message(current)
                await self.bot.db.polls.set_poll_message_closed(current.id)
                current = replace(current, poll_message_closed=True)
            self._retries.pop(current.id, None)
            return current

    async def _post_results(self, poll: PollRound, *, look_first: bool) -> int:
        """Post a round's results (or find an earlier, unrecorded post) and return the message id; 0 if refused."""
        if look_first:
            title = results_title(poll)
            earlier = await self.bot.find_own_message(
                poll.channel_id, "", poll.closed_at or self.bot.clock.now(), legacy=lambda e: e.title == title
            )
            if earlier is not None:
                log.info("Found the unrecorded results post of round %s (guild %s)", poll.id, poll.guild_id)
                return earlier.id
        embed, chart = await self.results_payload(poll)
        channel = self.bot.get_partial_messageable(poll.channel_id)
        try:
            message = await channel.send(embed=embed, file=chart or discord.utils.MISSING)
        except discord.HTTPException as error:
            if is_transient(error):
                raise  # 429, 5xx: the closer tries again with backoff
            # Refused for good (the channel is gone or closed to us, AutoMod, ...): recorded as 0, never retried.
            log.warning("Could not post results of round %s in %s: %s", poll.id, poll.channel_id, error)
            return 0
        log.info("Posted results of round %s (guild %s)", poll.id, poll.guild_id)
        return message.id

    def _retry_later(self, poll: PollRound) -> tuple[str, timedelta]:
        """Log the failure being handled, plan the next attempt with backoff, and return (error code, delay)."""
        failures = self._retries[poll.id].failures + 1 if poll.id in self._retries else 1
        delay = backoff(failures, CLOSE_FIRST_RETRY, CLOSE_MAX_RETRY)
        self._retries[poll.id] = CloseRetry(failures, self.bot.clock.now() + delay)
        code = error_code()
        log.exception(
            "Closing round %s (guild %s) failed half-way (error %s, %d in a row); retrying in %d s",
            poll.id,
            poll.guild_id,
            code,
            failures,
            delay.total_seconds(),
        )
        return code, delay

    async def close_due_rounds(self) -> datetime | None:
        """Finish the closes that are due (closing time passed, or a step left undone); return the next due time."""
        now = self.bot.clock.now()
        due = await self.bot.db.polls.rounds_due(now)
        slots = asyncio.Semaphore(CLOSE_CONCURRENCY)

        async def finish(poll: PollRound) -> None:
            # Each round on its own: one server's failing or hanging channel never holds up another's results.
            async with slots:
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await self.close_and_post(poll)
                except Exception:
                    self._retry_later(poll)

        ready = [poll for poll in due if poll.id not in self._retries or self._retries[poll.id].at <= now]
        await asyncio.gather(*(finish(poll) for poll in ready))
        due_ids = {poll.id for poll in due}
        # A retry whose time passed for a round no longer due was finished elsewhere; one planned after `now` may be
        # for a round that failed in /pdoom close since `due` was read (it woke us, so the next pass sees it).
        self._retries = {k: r for k, r in self._retries.items() if k in due_ids or r.at > now}
        retries = [r.at for k, r in self._retries.items() if k in due_ids]
        moments = [await self.bot.db.polls.next_closing_time(), *retries]
        return min((m for m in moments if m is not None), default=None)

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
            message = await channel.send(embed=card_embed(poll_card(poll, 0, None)), view=poll_view(poll.id))
        except discord.HTTPException:
            await self.bot.db.polls.delete_round(poll.id)
            raise
        await self.bot.db.polls.set_round_message(poll.id, message.id)
        self.closer.wake()
        await interaction.followup.send(f"Round {poll.number} is open: {message.jump_url}", ephemeral=True)

    @app_commands.command(name="close")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def close(self, interaction: discord.Interaction) -> None:
        """Close the open round now and post its results (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        poll = await self.bot.db.polls.open_round_for_guild(interaction.guild_id)
        if poll is None:
            # A closed round whose results are still waiting: this is the admin asking to try again now.
            latest = await self.bot.db.polls.latest_round(interaction.guild_id)
            if latest is None or latest.close_finished:
                raise UserFacingError("No round is open in this server.")
            poll = latest
        await interaction.response.defer(ephemeral=True, thinking=True)
        where = f"<#{poll.channel_id}>"
        try:
            done = await self.close_and_post(poll)
        except Exception as error:
            current = await self.bot.db.polls.get_round(poll.id)
            if current is None or current.is_open:
                raise  # the close itself failed: the round is still open, and the error handler says something failed
            code, _ = self._retry_later(poll)
            self.closer.wake()  # so it plans the retry
            if current.results_message_id:
                text = f"Round {poll.number} is closed and its results are posted in {where}."
            elif isinstance(error, discord.HTTPException):
                text = (
                    f"Round {poll.number} is closed. Discord didn't take the results post just now; "
                    f"I'll keep trying and post them in {where}."
                )
            else:
                text = (
                    f"Round {poll.number} is closed, but finishing it failed just now (error {code}); "
                    f"I'll keep trying, and its results will be in {where}."
                )
        else:
            if done.results_message_id == 0:
                text = (
                    f"Round {poll.number} is closed, but Discord refused its results post in {where} (the channel "
                    "is gone, I lack permission there, or AutoMod blocked it), so they weren't posted. "
                    "`/pdoom results` shows them."
                )
            else:
                text = f"Round {poll.number} is closed and its results are posted in {where}."
        await interaction.followup.send(text, ephemeral=True)

    async def _round_or_latest(self, guild_id: int, number: int | None) -> PollRound:
        poll = (
            await self.bot.db.polls.get_round_by_number(guild_id, number)
            if number is not None
            else await self.bot.db.polls.latest_round(guild_id)
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
            if await self.bot.db.polls.current_answer(poll.id, interaction.user.id) is None:
                raise UserFacingError(f"Answer round {poll.number} first; then you can see where everyone stands.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, chart = await self.results_payload(poll)
        await interaction.followup.send(embed=embed, file=chart or discord.utils.MISSING, ephemeral=True)

    @app_commands.command(name="history")
    async def history(self, interaction: discord.Interaction) -> None:
        """Show how the community's P(doom) moved across closed rounds."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        closed = [p for p in await self.bot.db.polls.rounds(interaction.guild_id) if not p.is_open]
        answers = await self.bot.db.polls.answers_by_round(interaction.guild_id)
        settings = await self.bot.db.polls.pdoom_settings(interaction.guild_id)
        points = history_points(
            [(p.number, f"{p.opened_at:%b %Y}", answers.get(p.id, {})) for p in closed], settings.min_respondents
        )
        if not points:
            raise UserFacingError("No closed round has answers yet; history starts after the first round closes.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed = discord.Embed(title="P(doom) across rounds", description="\n".join(history_lines(points))[:4000])
        chart = None
        if any(p.results.summary is not None for p in points):
            try:
                chart = _png_file(await asyncio.to_thread(charts.history_png, points), "history.png")
            except Exception:
                log.exception("Drawing the history of guild %s failed (error %s)", interaction.guild_id, error_code())
        if chart is not None:
            embed.set_image(url="attachment://history.png")
        await interaction.followup.send(embed=embed, file=chart or discord.utils.MISSING, ephemeral=True)

    @app_commands.command(name="mine")
    async def mine(self, interaction: discord.Interaction) -> None:
        """Show your own estimates over time (only you see this)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        submissions = await self.bot.db.polls.submissions(interaction.guild_id, interaction.user.id)
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
        rounds = await self.bot.db.polls.rounds(interaction.guild_id)
        if not rounds:
            raise UserFacingError("No rounds to export yet.")
        settings = await self.bot.db.polls.pdoom_settings(interaction.guild_id)
        text = export_csv(
            rounds, await self.bot.db.polls.answers_by_round(interaction.guild_id), settings.min_respondents
        )
        await interaction.response.send_message(
            "Aggregates only: no individual answers are included, and rounds with fewer than "
            f"{settings.min_respondents} respondents show only their count.",
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
