"""Closing P(Doom) rounds: the close's three steps, their retries, and the background loop that finishes them.

Closing a round has three steps (close, post and record the results, show the poll message closed); a supervised
background loop finishes every step that is not done, at the closing time, after a failure (with backoff) and after
a restart, and never posts results twice: before posting again it looks for an earlier post by its marker button.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import discord
from discord.ext import commands

from bot.background import STOP_GRACE, BackgroundLoop, backoff
from bot.bot import AlignmentBot
from bot.domain.pdoom import PollRound
from bot.domain.pdoom_cards import legacy_results_title, results_marker
from bot.errors import error_code
from bot.exts.pdoom.rounds import PollRounds
from bot.exts.pdoom.views import results_view
from bot.faults import is_transient

log = logging.getLogger(__name__)

# A close that failed half-way (Discord down, database locked) is retried after 1, 2, 4, … minutes, at most 30 apart.
CLOSE_FIRST_RETRY = timedelta(minutes=1)
CLOSE_MAX_RETRY = timedelta(minutes=30)
CLOSE_TIMEOUT = 120.0  # seconds one round's close may take in a pass before it is retried later
CLOSE_CONCURRENCY = 8  # rounds closed at once in a pass


@dataclass(frozen=True, slots=True)
class CloseRetry:
    """A round whose close failed half-way: how many times in a row, and when to try again."""

    failures: int
    at: datetime


class RoundCloser(commands.Cog):
    """Closes rounds on time and finishes every close that stopped half-way."""

    def __init__(self, bot: AlignmentBot, rounds: PollRounds) -> None:
        self.bot, self.rounds = bot, rounds
        self._retries: dict[int, CloseRetry] = {}  # round id -> when to retry its close
        self.background = BackgroundLoop("pdoom-closer", self.close_due_rounds, bot.clock, ready=bot.wait_until_ready)

    async def cog_load(self) -> None:
        """Start closing rounds on time."""
        self.background.start()

    async def cog_unload(self) -> None:
        """Stop, letting a results post that has begun be recorded first."""
        await self.background.stop()
        try:  # a close begun by /pdoom-admin close finishes too, within the same bound as the loop's
            async with asyncio.timeout(STOP_GRACE):
                await self.rounds.wait_for_closes()
        except TimeoutError:
            log.warning("A round's close was still running at shutdown; it resumes at the next start")

    def wake(self) -> None:
        """Plan again now (a round opened, or a close failed and needs a retry)."""
        self.background.wake()

    async def close_and_post(self, poll: PollRound) -> PollRound:
        """Close a round if open and finish every step of its close not done yet; return the round as it ends up.

        The steps: close; post the results once and record where (or that Discord refused them for good); edit the
        poll message to its closed state and record that. Safe to call from several places at once, and after a
        crash at any point. Raises when a step failed for a reason that may pass; calling again resumes from there.
        """
        polls = self.bot.db.polls
        async with self.rounds.closing(poll.guild_id):
            # Read the round once, under the lock; the steps below work on this copy and record each step.
            closed_now = await polls.close_round(poll.id, self.bot.clock.now()) if poll.is_open else None
            current = closed_now or await polls.get_round(poll.id)
            self.rounds.forget_round(poll.id)
            if current is None:  # deleted meanwhile: nothing left to finish
                return poll
            if not current.results_settled:
                # Closed earlier by a call that may have died between posting and recording: look before posting.
                message_id = await self._post_results(current, look_first=closed_now is None)
                if message_id is None:
                    await polls.set_results_refused(current.id)
                    current = replace(current, results_refused=True)
                else:
                    await polls.set_results_message(current.id, message_id)
                    current = replace(current, results_message_id=message_id)
            if not current.poll_message_closed:
                await self.rounds.edit_poll_message(current)
                await polls.set_poll_message_closed(current.id)
                current = replace(current, poll_message_closed=True)
            self._retries.pop(current.id, None)
            return current

    async def _post_results(self, poll: PollRound, *, look_first: bool) -> int | None:
        """Post a round's results (or find an earlier, unrecorded post) and return its id; None if refused for good."""
        if look_first:
            legacy_title = legacy_results_title(poll)
            earlier = await self.bot.find_own_message(
                poll.channel_id,
                results_marker(poll.id),
                since=poll.closed_at or self.bot.clock.now(),
                legacy=lambda embed: embed.title == legacy_title,
            )
            if earlier is not None:
                log.info("Found the unrecorded results post of round %s (guild %s)", poll.id, poll.guild_id)
                return earlier.id
        embed, chart = await self.rounds.results_message(poll)
        channel = self.bot.get_partial_messageable(poll.channel_id)
        try:
            message = await channel.send(embed=embed, file=chart or discord.utils.MISSING, view=results_view(poll.id))
        except discord.HTTPException as error:
            if is_transient(error):
                raise  # 429, 5xx: the closer tries again with backoff
            # Refused for good (the channel is gone or closed to us, AutoMod, ...): recorded, never retried.
            log.warning("Could not post results of round %s (guild %s): %s", poll.id, poll.guild_id, error)
            return None
        log.info("Posted results of round %s (guild %s)", poll.id, poll.guild_id)
        return message.id

    def retry_later(self, poll: PollRound) -> str:
        """Log the failure being handled, plan the next attempt with backoff, and return the error code."""
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
        return code

    async def close_due_rounds(self) -> datetime | None:
        """Finish the closes that are due (closing time passed, or a step left undone); return the next due time.

        Only rounds of this process's servers: another process closes those of the shards it runs.
        """
        now = self.bot.clock.now()
        due = await self.bot.db.polls.rounds_due(now, shards=self.bot.shard_scope)
        slots = asyncio.Semaphore(CLOSE_CONCURRENCY)

        async def finish(poll: PollRound) -> None:
            # Each round on its own: one server's failing or hanging channel never holds up another's results.
            async with slots:
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await self.close_and_post(poll)
                except Exception:
                    self.retry_later(poll)

        ready = [poll for poll in due if poll.id not in self._retries or self._retries[poll.id].at <= now]
        await asyncio.gather(*(finish(poll) for poll in ready))
        due_ids = {poll.id for poll in due}
        # A retry whose time passed for a round no longer due was finished elsewhere; one planned after `now` may be
        # for a round that failed in /pdoom-admin close since `due` was read (it woke us, so the next pass sees it).
        self._retries = {k: r for k, r in self._retries.items() if k in due_ids or r.at > now}
        retries = [r.at for k, r in self._retries.items() if k in due_ids]
        moments = [await self.bot.db.polls.next_closing_time(shards=self.bot.shard_scope), *retries]
        return min((m for m in moments if m is not None), default=None)
