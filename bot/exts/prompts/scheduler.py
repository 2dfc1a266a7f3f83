"""The weekly prompt scheduler: posts each server's prompt on time, exactly once, and keeps count of replies.

It sleeps until the next due time (one index lookup across all servers) or until a schedule changes, in a
supervised loop (bot/background.py) that survives every error. Each server is processed on its own, under its own
lock: a server whose channel refuses the bot, or whose post Discord keeps failing, never delays or stops another's.

- A permanent refusal (missing permission, deleted channel, AutoMod, ...) marks that occurrence failed and
  alerts the server's admins once, naming the cause (posting.py).
- A passing fault (5xx, 429, network, the server unavailable on Discord's side) retries that schedule alone,
  with backoff, until the occurrence's deadline (due time + grace period + a small on-time tolerance).
- Each occurrence is claimed in the database before posting and completed with the message and thread ids
  after; a post claimed but not completed is looked for in the channel by its marker before it is sent again,
  after the same checks as a first attempt (recovery.py).
- Threads are opened with bounded retries (threads.py).
- A server that removed the bot is paused, and resumed from its next occurrence when the bot is added back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import discord

from bot import metrics
from bot.background import BackgroundLoop
from bot.bot import AlignmentBot
from bot.domain.prompt_outcomes import (
    NOT_IN_SERVER,
    SERVER_UNAVAILABLE,
    WAS_OFFLINE,
    describe_outcome,
    gave_up,
    missed_while_offline,
    not_posted_now,
    skipped_outcome,
    work_failed,
)
from bot.domain.prompts import ON_TIME_TOLERANCE, PromptPost, Schedule
from bot.domain.schedule import Occurrence, load_zone, missed_since, next_occurrence
from bot.errors import error_code
from bot.exts.prompts.alerts import alert_admins
from bot.exts.prompts.posting import Absent, Poster, Wait
from bot.exts.prompts.recovery import Recovery
from bot.exts.prompts.threads import PromptThreads

log = logging.getLogger(__name__)

GUILD_WORK_TIMEOUT = 120.0  # seconds one server's work may take in a pass before it is retried later
CONCURRENCY = 8  # servers handled at once in a pass


@dataclass
class _GuildWork:
    """What one pass has to do for one server."""

    claimed: list[PromptPost] = field(default_factory=list)
    threads: list[PromptPost] = field(default_factory=list)
    schedule: Schedule | None = None


class PromptScheduler:
    """Posts due prompts for every server; one instance per bot, owned by the Prompts cog."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.loop = BackgroundLoop("prompts-scheduler", self.run_pass, bot.clock, ready=bot.wait_until_ready)
        self.threads = PromptThreads(bot)
        self.poster = Poster(bot, self.threads)
        self.recovery = Recovery(bot, self.poster, self.threads)
        # One server's work at a time (a pass, /prompts-admin post-now); servers never wait on each other.
        self._guild_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._available_again: set[int] = set()  # servers back from an outage since the last pass
        self._waiting_for_server: set[int] = set()  # servers whose post waits for an outage on Discord's side to end
        self._prepared = False

    def start(self) -> None:
        """Start the background loop."""
        self.loop.start()

    async def stop(self) -> None:
        """Stop the loop, letting a pass that has begun finish and record its posts first."""
        await self.loop.stop()

    def wake(self) -> None:
        """Re-read the schedules now (after one changed)."""
        self.loop.wake()

    def guild_lock(self, guild_id: int) -> asyncio.Lock:
        """Return the lock held while anything posts for this server."""
        return self._guild_locks[guild_id]

    async def run_pass(self) -> datetime | None:
        """Handle everything due, each server on its own; return when the next pass is wanted.

        Only this process's servers: another process does the work of the shards it runs.
        """
        if not self._prepared:
            await self.prepare()
            self._prepared = True
        now = self.bot.clock.now()
        self.threads.recent.prune(now)
        for guild_id in list(self._available_again):  # kept until written, so a failed pass tries again
            await self.bot.db.schedules.retry_now(guild_id, now)
            self._available_again.discard(guild_id)
        shards = self.bot.shard_scope
        work: dict[int, _GuildWork] = defaultdict(_GuildWork)
        for post in await self.bot.db.prompts.claimed_posts(now, shards=shards):
            work[post.guild_id].claimed.append(post)
        for post in await self.bot.db.prompts.posts_missing_thread(now, shards=shards):
            work[post.guild_id].threads.append(post)
        for schedule in await self.bot.db.schedules.due_schedules(now, shards=shards):
            work[schedule.guild_id].schedule = schedule
        slots = asyncio.Semaphore(CONCURRENCY)

        async def run(guild_id: int, items: _GuildWork) -> None:
            async with slots:
                if not self.loop.stopping:
                    await self.process_guild(guild_id, items, now)

        results = await asyncio.gather(*(run(g, w) for g, w in work.items()), return_exceptions=True)
        # A server's own errors were handled in process_guild; what is left (the database failing while recording
        # a retry) fails the pass, which the loop retries with backoff, after every server had its turn.
        for result in results:
            if isinstance(result, BaseException):
                raise result
        moments = [
            await self.bot.db.schedules.next_schedule_due(shards=shards),
            await self.bot.db.prompts.next_thread_retry(shards=shards),
        ]
        return min((m for m in moments if m is not None), default=None)

    async def prepare(self) -> None:
        """On the first pass: give every server its starter prompts and match schedules to the servers we are in.

        Only this process's servers: one on another process's shard is not in `self.bot.guilds`, yet not left.
        """
        present = {guild.id for guild in self.bot.guilds}
        for guild_id in present:
            await self.import_starters(guild_id)
        for guild_id, absent in (await self.bot.db.schedules.schedule_presence()).items():
            if not self.bot.owns_guild(guild_id):
                continue
            if absent and guild_id in present:
                await self.guild_joined(guild_id)
            elif not absent and guild_id not in present:
                await self.guild_left(guild_id)  # removed while the bot was offline
        await self.threads.load()

    async def process_guild(self, guild_id: int, work: _GuildWork, now: datetime) -> None:
        """Do one server's work: finish unfinished posts, open missing threads, then handle its due occurrence."""
        async with self.guild_lock(guild_id):
            try:
                async with asyncio.timeout(GUILD_WORK_TIMEOUT):
                    for post in work.claimed:
                        await self.recovery.recover(post, now)
                    for post in work.threads:
                        await self.threads.ensure_thread(post)
                    if work.schedule is not None:
                        await self.handle_due(work.schedule, now)
            except Absent:
                await self.guild_left(guild_id)
            except Exception as error:
                code = error_code()
                metrics.count_error(error)
                log.error("Weekly prompts for guild %s failed (error %s)", guild_id, code, exc_info=error)
                if work.schedule is not None:
                    reason = work_failed(isinstance(error, TimeoutError), code)
                    await self.poster.retry_later(work.schedule, now, reason)

    async def handle_due(self, schedule: Schedule, now: datetime) -> None:
        """Post (late if within the grace period), skip, or report a missed occurrence; then move on.

        Raises Absent when the bot is no longer in the server.
        """
        occurrence = schedule.next_local_date
        zone = load_zone(schedule.timezone)
        due = Occurrence(date.fromisoformat(occurrence), schedule.next_due_at)
        # Always move past `now`: after downtime there is at most one (late) post, never a backlog burst.
        following = next_occurrence(max(now, due.due), schedule.weekday, schedule.local_time, zone)
        recorded = await self.bot.db.prompts.post_for_occurrence(schedule.guild_id, occurrence)
        if recorded is not None:
            if recorded.status != "claimed":  # done already (e.g. posted before a crash): report that, move on
                await self.bot.db.schedules.advance_schedule(
                    schedule.guild_id, occurrence, following, describe_outcome(recorded)
                )
            return  # a claimed post is finished by recovery, which ran first
        if schedule.skip_next:
            await self.poster.record(schedule, occurrence, "skipped", None)
            await self.bot.db.schedules.advance_schedule(
                schedule.guild_id, occurrence, following, skipped_outcome(occurrence)
            )
            return
        if now > schedule.deadline:
            if schedule.attempts:
                outcome = await self.poster.fail(
                    schedule, occurrence, gave_up(schedule.attempts, schedule.retry_reason)
                )
            else:
                outcome = await self.report_missed(schedule, due, now)
            await self.bot.db.schedules.advance_schedule(schedule.guild_id, occurrence, following, outcome)
            return
        metrics.SCHEDULER_LAG.observe(max(0.0, (now - due.due).total_seconds()))
        try:
            outcome = await self.poster.post(schedule, occurrence, schedule.deadline)
        except Wait as wait:
            if wait.reason == SERVER_UNAVAILABLE:
                self._waiting_for_server.add(schedule.guild_id)
            await self.poster.retry_later(schedule, now, wait.reason)
            return
        await self.bot.db.schedules.advance_schedule(schedule.guild_id, occurrence, following, outcome)

    async def report_missed(self, schedule: Schedule, due: Occurrence, now: datetime) -> str:
        """Record an occurrence missed while the bot was offline, and tell the admins how many were missed."""
        zone = load_zone(schedule.timezone)
        missed = missed_since(due, now, schedule.weekday, schedule.local_time, zone)
        await self.poster.record(schedule, schedule.next_local_date, "missed", WAS_OFFLINE)
        metrics.PROMPTS.labels("missed").inc()
        outcome = missed_while_offline(missed, schedule.next_local_date)
        await alert_admins(self.bot, schedule, outcome)
        return outcome

    async def post_now(self, schedule: Schedule, occurrence: str) -> str:
        """Post the next prompt at once for /prompts-admin post-now (the caller holds the server's lock)."""
        try:
            # The admin who asked reads the outcome in the reply; the mod channel hears only about the queue.
            return await self.poster.post(schedule, occurrence, self.bot.clock.now() + ON_TIME_TOLERANCE, alert=False)
        except Absent:
            return NOT_IN_SERVER
        except Wait as wait:
            claimed = await self.bot.db.prompts.post_for_occurrence(schedule.guild_id, occurrence)
            if claimed is not None and claimed.status == "claimed":
                # Discord may have made the post despite the error: keep it if it is there.
                if await self.recovery.settle_if_posted(claimed):
                    return describe_outcome(replace(claimed, status="posted"))
                await self.bot.db.prompts.fail_post(claimed.id, wait.reason, self.bot.clock.now())
            return not_posted_now(wait.reason)

    async def guild_left(self, guild_id: int) -> None:
        """Pause a server's schedule while the bot is not in it."""
        if await self.bot.db.schedules.set_schedule_absent(guild_id, None):
            log.info("Paused weekly prompts of guild %s: the bot is no longer in it", guild_id)

    async def guild_joined(self, guild_id: int) -> None:
        """Give a (re)joined server its starter prompts and resume its schedule from the next occurrence."""
        await self.import_starters(guild_id)
        schedule = await self.bot.db.schedules.get_schedule(guild_id)
        if schedule is not None and schedule.absent:
            zone = load_zone(schedule.timezone)
            upcoming = next_occurrence(self.bot.clock.now(), schedule.weekday, schedule.local_time, zone)
            if await self.bot.db.schedules.set_schedule_absent(guild_id, upcoming):
                log.info("Resumed weekly prompts of guild %s from %s", guild_id, upcoming.local_date)
                self.wake()

    def guild_available(self, guild_id: int) -> None:
        """Post at once what waited for a server to come back from an outage on Discord's side.

        The next pass brings the server's pending retry forward: the database is written by the supervised loop,
        which stops before the database closes, never by the event handler, which may still run at shutdown.
        """
        self._waiting_for_server.discard(guild_id)
        self._available_again.add(guild_id)
        self.wake()

    def shard_ready(self, shard_id: int) -> None:
        """After a shard (re)connected: post at once for its servers whose outage ended, even if no event said so.

        discord.py drops a server's GUILD_CREATE that arrives just as the shard's wait for its servers times out, and
        with it on_guild_available; the server is then in the cache as available, and its retry would wait its time.
        """
        for guild_id in list(self._waiting_for_server):
            guild = self.bot.get_guild(guild_id)
            if guild is not None and guild.shard_id == shard_id and not guild.unavailable:
                self.guild_available(guild_id)

    async def import_starters(self, guild_id: int) -> int:
        """Import the starter prompts from the content folder into a server's queue (idempotent)."""
        return await self.bot.db.prompts.import_starter_prompts(
            guild_id, self.bot.library.store.prompts, self.bot.clock.now()
        )

    async def count_message(self, message: discord.Message) -> None:
        """Count a message in a prompt's thread towards the prompt's engagement."""
        await self.threads.count_message(message)
