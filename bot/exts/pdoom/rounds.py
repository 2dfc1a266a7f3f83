"""What the P(Doom) commands, buttons and closer share: open rounds, vote recording, poll-message refreshes, results.

Reliability: a vote is committed before the member is told it was recorded; the poll message is refreshed at most
once per REFRESH_INTERVAL however fast votes arrive, and never after the close's own edit of it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ext import commands

from bot import charts, metrics
from bot.bot import AlignmentBot
from bot.domain.card import Card
from bot.domain.pdoom import Estimate, PollRound, PublicResults, RoundClosed, public_results
from bot.domain.pdoom_cards import NO_SUCH_POLL, mine_card, poll_card, results_card, vote_receipt
from bot.errors import UserFacingError, error_code
from bot.render import card_embed

log = logging.getLogger(__name__)

REFRESH_INTERVAL = 3.0  # seconds between poll-message edits, however fast votes arrive


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

    def forget(self, key: int) -> None:
        """Drop what is remembered about `key` (its round closed), so memory follows the open rounds only."""
        self._last_run.pop(key, None)

    async def close(self) -> None:
        """Cancel waiting and running actions (the bot is shutting down)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def png_file(data: bytes, name: str) -> discord.File:
    """Wrap a drawn chart as an attachment called `name`."""
    return discord.File(io.BytesIO(data), filename=name)


class PollRounds(commands.Cog):
    """The rounds' shared state and work; the member and admin cogs and the closer are given this one object."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.refresher = Debouncer(REFRESH_INTERVAL, self._refresh_after_votes)
        # Open rounds only (a round rarely changes while open, and every vote reads it); dropped when they close.
        self._open: dict[int, PollRound] = {}
        # One close at a time per server (a round's close and its poll-message edits), never across servers.
        self._closing: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def cog_unload(self) -> None:
        """Cancel pending poll-message refreshes."""
        await self.refresher.close()

    def closing(self, guild_id: int) -> asyncio.Lock:
        """Return the lock that a server's closes and poll-message edits take turns under."""
        return self._closing[guild_id]

    async def wait_for_closes(self) -> None:
        """Return once no close that has begun is still running."""
        for lock in list(self._closing.values()):
            async with lock:
                pass

    def forget_round(self, round_id: int) -> None:
        """Drop a round from the open rounds (it closed, or was deleted)."""
        self._open.pop(round_id, None)
        self.refresher.forget(round_id)

    @property
    def cached_round_ids(self) -> set[int]:
        """Return the ids of the rounds held in memory (only open ones)."""
        return set(self._open)

    async def round_in_guild(self, round_id: int, guild_id: int | None) -> PollRound:
        """Return a round of this server (open ones from memory), or refuse."""
        poll = self._open.get(round_id) or await self.bot.db.polls.get_round(round_id)
        if poll is None or poll.guild_id != guild_id:
            raise UserFacingError(NO_SUCH_POLL)
        if poll.is_open:
            self._open[round_id] = poll
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
            self.forget_round(round_id)  # the copy in memory still said open
            raise RoundClosed(poll.number) from None
        metrics.VOTES.inc()
        so_far = await self.public_results(poll) if poll.show_results_early else None
        await interaction.response.send_message(vote_receipt(poll.number, estimate, source, so_far), ephemeral=True)
        self.refresher.mark(poll.id)

    async def _refresh_after_votes(self, round_id: int) -> None:
        """Refresh a poll after votes (the debouncer's action), logging a failure with the round's server."""
        try:
            await self.refresh_poll_message(round_id)
        except Exception:
            poll = self._open.get(round_id)
            guild = poll.guild_id if poll is not None else "unknown"
            log.exception("Refreshing the poll of round %s (guild %s) failed", round_id, guild)

    async def refresh_poll_message(self, round_id: int) -> None:
        """Edit the poll message to show the current count (and, once closed, the public results)."""
        poll = await self.bot.db.polls.get_round(round_id)
        if poll is None:
            return
        # Under the closing lock: a refresh that read the round as open must not land after the close's edit.
        async with self.closing(poll.guild_id):
            poll = await self.bot.db.polls.get_round(round_id)
            if poll is not None:
                await self.edit_poll_message(poll)

    async def edit_poll_message(self, poll: PollRound) -> None:
        """Show a round's state on its poll message; a message that is gone or not ours to edit is left alone."""
        if poll.message_id is None:
            return
        if poll.is_open:  # the public message shows only the count until the close
            card = poll_card(poll, await self.bot.db.polls.respondent_count(poll.id))
        else:
            results = await self.public_results(poll)
            card = poll_card(poll, results.respondents, results)
        message = self.bot.get_partial_messageable(poll.channel_id).get_partial_message(poll.message_id)
        try:
            await message.edit(embed=card_embed(card), view=None if not poll.is_open else discord.utils.MISSING)
        except (discord.NotFound, discord.Forbidden):
            log.warning("Poll message of round %s (guild %s) is gone or not editable", poll.id, poll.guild_id)

    async def results_message(self, poll: PollRound) -> tuple[discord.Embed, discord.File | None]:
        """Build a round's results embed and, when its aggregates are public, its histogram (drawn off the loop).

        A chart that cannot be drawn never stops the results: they go out without it, and the error is logged.
        """
        results = await self.public_results(poll)
        estimates = self.bot.library.store.estimates
        chart = None
        if results.summary is not None and results.bins:
            try:
                png = await asyncio.to_thread(charts.histogram_png, results.bins, results.summary, poll.question)
                chart = png_file(png, "pdoom.png")
            except Exception:
                log.exception(
                    "Drawing the chart of round %s (guild %s) failed (error %s)", poll.id, poll.guild_id, error_code()
                )
        return card_embed(results_card(poll, results, estimates, chart=chart is not None)), chart

    async def own_estimates(self, guild_id: int, user_id: int) -> Card:
        """Return a member's own estimates in a server, for them only."""
        return mine_card(await self.bot.db.polls.submissions(guild_id, user_id))
