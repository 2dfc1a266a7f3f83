"""The weekly prompt scheduler: posts each server's prompt on time, exactly once, and keeps count of replies.

It sleeps until the next due time (one index lookup across all servers) or until a schedule changes, in a
supervised loop (bot/background.py) that survives every error. Each server is processed on its own: a server
whose channel refuses the bot, or whose post Discord keeps failing, never delays or stops another's.

- A permanent refusal (missing permission, deleted channel, AutoMod, ...) marks that occurrence failed and
  alerts the server's admins once, naming the cause.
- A passing fault (5xx, 429, network, the server unavailable on Discord's side) retries that schedule alone,
  with backoff, until the occurrence's deadline (due time + grace period + a small on-time tolerance).
- Each occurrence is claimed in the database before posting and completed with the message and thread ids
  after; a post claimed but not completed (the bot stopped in between, or Discord failed) is looked for in the
  channel by its footer marker before it is sent again, after the same checks as a first attempt.
- A server that removed the bot is paused, and resumed from its next occurrence when the bot is added back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import discord

from bot.background import BackgroundLoop, backoff
from bot.bot import AlignmentBot
from bot.domain.prompts import (
    LOW_QUEUE,
    ON_TIME_TOLERANCE,
    Prompt,
    PromptPost,
    Schedule,
    choose_next,
    describe_outcome,
    post_marker,
    prompt_card,
    thread_name,
)
from bot.domain.schedule import Occurrence, load_zone, missed_since, next_occurrence
from bot.errors import error_code
from bot.faults import (
    THREAD_ALREADY_EXISTS,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MESSAGE,
    describe_fault,
    is_transient,
)
from bot.render import card_embed

log = logging.getLogger(__name__)

RETRY_FIRST = timedelta(seconds=15)  # a passing fault is retried after 15 s, 30 s, 1 min, ... (within the deadline)
RETRY_CAP = timedelta(minutes=30)
THREAD_RETRY_FIRST = timedelta(minutes=2)
THREAD_MAX_ATTEMPTS = 5  # then the post keeps no thread and the admins are told
GUILD_WORK_TIMEOUT = 120.0  # seconds one server's work may take in a pass before it is retried later
CONCURRENCY = 8  # servers handled at once in a pass
ENGAGEMENT_WINDOW = timedelta(days=7)
RETRY_GRACE_FOR_OLD_POSTS = timedelta(hours=12)  # deadline of a post claimed before deadlines were recorded

PromptChannel = discord.TextChannel | discord.ForumChannel


class _Wait(Exception):
    """A passing fault: try this server again later (within the occurrence's deadline)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    """A permanent refusal: this occurrence fails and the admins are told why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Absent(Exception):
    """The bot is no longer in the server."""


@dataclass
class _GuildWork:
    """What one pass has to do for one server."""

    claimed: list[PromptPost] = field(default_factory=list)
    threads: list[PromptPost] = field(default_factory=list)
    schedule: Schedule | None = None


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member, open_thread: bool) -> list[str]:
    """Name the permissions the bot lacks to post a prompt (and its thread) in `channel`."""
    permissions = channel.permissions_for(me)
    # Without View Channel or Send Messages, Discord denies what depends on them too; name only the root cause.
    for root in ("view_channel", "send_messages"):
        if not getattr(permissions, root):
            return [root.replace("_", " ").title()]
    needed = ["embed_links"]
    if open_thread or isinstance(channel, discord.ForumChannel):
        needed += ["send_messages_in_threads"]
    if open_thread and not isinstance(channel, discord.ForumChannel):
        needed += ["create_public_threads"]
    return [name.replace("_", " ").title() for name in needed if not getattr(permissions, name)]


def _classified(error: Exception, where: str) -> Exception:
    """Turn Discord's answer into _Wait (passing) or _Refused / _Absent (permanent); other errors stay as they are."""
    if is_transient(error):
        return _Wait(describe_fault(error, where))
    if isinstance(error, discord.HTTPException):
        return _Absent() if error.code == UNKNOWN_GUILD else _Refused(describe_fault(error, where))
    return error


def _gave_up(schedule: Schedule) -> str:
    """Say why the current occurrence was given up at its deadline."""
    if not schedule.attempts:
        return "it was not sent in time"
    return f"{schedule.retry_reason}; gave up after {schedule.attempts} tries"


class PromptScheduler:
    """Posts due prompts for every server; one instance per bot, owned by the Prompts cog."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.loop = BackgroundLoop("prompts-scheduler", self.run_pass, bot.clock, ready=bot.wait_until_ready)
        # One server's work at a time (a pass, /prompts post-now); servers never wait on each other.
        self._guild_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._threads: dict[int, tuple[int, datetime]] = {}  # recent prompt threads -> (post id, posted at)
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

    # --- the pass ---

    async def run_pass(self) -> datetime | None:
        """Handle everything due, each server on its own; return when the next pass is wanted."""
        if not self._prepared:
            await self.prepare()
            self._prepared = True
        now = self.bot.clock.now()
        work: dict[int, _GuildWork] = defaultdict(_GuildWork)
        for post in await self.bot.db.prompts.claimed_posts(now):
            work[post.guild_id].claimed.append(post)
        for post in await self.bot.db.prompts.posts_missing_thread(now):
            work[post.guild_id].threads.append(post)
        for schedule in await self.bot.db.schedules.due_schedules(now):
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
        moments = [await self.bot.db.schedules.next_schedule_due(), await self.bot.db.prompts.next_thread_retry()]
        return min((m for m in moments if m is not None), default=None)

    async def prepare(self) -> None:
        """On the first pass: give every server its starter prompts and match schedules to the servers we are in."""
        present = {guild.id for guild in self.bot.guilds}
        for guild_id in present:
            await self.import_starters(guild_id)
        for guild_id, absent in (await self.bot.db.schedules.schedule_presence()).items():
            if absent and guild_id in present:
                await self.guild_joined(guild_id)
            elif not absent and guild_id not in present:
                await self.guild_left(guild_id)  # removed while the bot was offline
        self._threads = await self.bot.db.prompts.recent_threads(self.bot.clock.now() - ENGAGEMENT_WINDOW)

    async def process_guild(self, guild_id: int, work: _GuildWork, now: datetime) -> None:
        """Do one server's work: finish unfinished posts, open missing threads, then handle its due occurrence."""
        async with self.guild_lock(guild_id):
            try:
                async with asyncio.timeout(GUILD_WORK_TIMEOUT):
                    for post in work.claimed:
                        await self.recover(post, now)
                    for post in work.threads:
                        await self.ensure_thread(post)
                    if work.schedule is not None:
                        await self.handle_due(work.schedule, now)
            except Exception as error:
                code = error_code()
                log.error("Weekly prompts for guild %s failed (error %s)", guild_id, code, exc_info=error)
                if work.schedule is not None:
                    reason = "Discord didn't answer in time" if isinstance(error, TimeoutError) else "an error"
                    await self.retry_later(work.schedule, now, f"{reason} (code {code})")

    async def handle_due(self, schedule: Schedule, now: datetime) -> None:
        """Post (late if within the grace period), skip, or report a missed occurrence; then move on."""
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
            return  # a claimed post is finished by recover(), which ran first
        if schedule.skip_next:
            await self._record(schedule, occurrence, "skipped", None)
            await self.bot.db.schedules.advance_schedule(
                schedule.guild_id, occurrence, following, f"Skipped {occurrence}"
            )
            return
        if now > schedule.deadline:
            if schedule.attempts:
                outcome = await self.fail(schedule, occurrence, _gave_up(schedule))
            else:
                outcome = await self.report_missed(schedule, due, now)
            await self.bot.db.schedules.advance_schedule(schedule.guild_id, occurrence, following, outcome)
            return
        try:
            outcome = await self.post(schedule, occurrence, schedule.deadline)
        except _Wait as wait:
            await self.retry_later(schedule, now, wait.reason)
            return
        except _Absent:
            await self.guild_left(schedule.guild_id)
            return
        await self.bot.db.schedules.advance_schedule(schedule.guild_id, occurrence, following, outcome)

    async def report_missed(self, schedule: Schedule, due: Occurrence, now: datetime) -> str:
        """Record an occurrence missed while the bot was offline, and tell the admins how many were missed."""
        zone = load_zone(schedule.timezone)
        missed = missed_since(due, now, schedule.weekday, schedule.local_time, zone)
        await self._record(schedule, schedule.next_local_date, "missed", "the bot was offline")
        outcome = f"Missed {missed} weekly post(s) while offline (from {schedule.next_local_date}); not made up."
        await self.alert(schedule, outcome)
        return outcome

    async def retry_later(self, schedule: Schedule, now: datetime, reason: str) -> None:
        """Try this schedule's occurrence again after a backoff, but no later than just past its deadline."""
        delay = backoff(schedule.attempts + 1, RETRY_FIRST, RETRY_CAP)
        retry_at = max(min(now + delay, schedule.deadline + timedelta(seconds=1)), now + timedelta(seconds=1))
        attempts = await self.bot.db.schedules.retry_schedule_later(
            schedule.guild_id, schedule.next_local_date, retry_at, reason
        )
        log.warning(
            "Weekly prompt for guild %s (%s) not posted: %s; try %d at %s",
            schedule.guild_id,
            schedule.next_local_date,
            reason,
            attempts + 1,
            retry_at.isoformat(timespec="seconds"),
        )

    # --- posting ---

    def target_channel(self, guild_id: int, channel_id: int, open_thread: bool) -> PromptChannel:
        """Return the channel to post in, or raise _Wait / _Refused / _Absent saying why not now."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            # Once ready, every server we are in is in the cache (if only as unavailable): we were removed.
            if self.bot.is_ready():
                raise _Absent
            raise _Wait("Discord hasn't told me about this server yet")
        if guild.unavailable:
            raise _Wait("the server is unavailable on Discord's side")
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, PromptChannel):
            raise _Refused("the prompt channel no longer exists; run /prompts schedule to pick another")
        missing = missing_permissions(channel, guild.me, open_thread)
        if missing:
            raise _Refused(f"I lack {', '.join(missing)} in {channel.mention}")
        return channel

    async def post(self, schedule: Schedule, occurrence: str, deadline: datetime, *, alert: bool = True) -> str:
        """Post the next prompt for `occurrence` once; return what happened, in a sentence.

        A refusal is recorded (and, with `alert`, the admins told) here. Raises _Wait for a passing fault (a claimed
        post is kept, for recover() to find or resend) and _Absent when the bot is no longer in the server.
        """
        try:
            channel = self.target_channel(schedule.guild_id, schedule.channel_id, schedule.open_thread)
            approved = await self.bot.db.prompts.list_prompts(schedule.guild_id, "approved", limit=500)
            last = await self.bot.db.prompts.last_posted_prompt(schedule.guild_id)
            prompt = choose_next(approved, last.tags if last else ())
            if prompt is None:
                raise _Refused("no approved prompts are left; add some with /prompts add")
        except _Refused as refused:
            return await self.fail(schedule, occurrence, refused.reason, alert=alert)
        post = await self.bot.db.prompts.claim_post(
            guild_id=schedule.guild_id,
            occurrence=occurrence,
            prompt_id=prompt.id,
            channel_id=channel.id,
            wants_thread=schedule.open_thread or isinstance(channel, discord.ForumChannel),
            now=self.bot.clock.now(),
            deadline=deadline,
        )
        if post is None:
            recorded = await self.bot.db.prompts.post_for_occurrence(schedule.guild_id, occurrence)
            if recorded is not None:
                return describe_outcome(recorded)
            raise _Wait("another post took the same prompt at the same moment")
        try:
            await self.deliver(post, prompt, channel, schedule.ping_role_id)
        except _Refused as refused:
            return await self.fail(schedule, occurrence, refused.reason, post=post, alert=alert)
        remaining = await self.bot.db.prompts.count_prompts(schedule.guild_id, "approved")
        if remaining <= LOW_QUEUE:
            await self.alert(
                schedule,
                f"Only {remaining} approved prompt(s) left. Add more with `/prompts add` or approve suggestions.",
            )
        return f"Posted prompt #{prompt.id} for {occurrence}"

    async def post_now(self, schedule: Schedule, occurrence: str) -> str:
        """Post the next prompt at once for `/prompts post-now` (the caller holds the server's lock)."""
        try:
            # The admin who asked reads the outcome in the reply; the mod channel hears only about the queue.
            return await self.post(schedule, occurrence, self.bot.clock.now() + ON_TIME_TOLERANCE, alert=False)
        except _Absent:
            return "I'm not in this server any more"
        except _Wait as wait:
            claimed = await self.bot.db.prompts.post_for_occurrence(schedule.guild_id, occurrence)
            if claimed is not None and claimed.status == "claimed":
                # Discord may have made the post despite the error: keep it if it is there.
                if await self._settle_if_posted(claimed):
                    return describe_outcome(replace(claimed, status="posted"))
                await self.bot.db.prompts.fail_post(claimed.id, wait.reason, self.bot.clock.now())
            return f"Not posted: {wait.reason}. Please try again in a few minutes"

    async def fail(
        self, schedule: Schedule, occurrence: str, reason: str, *, post: PromptPost | None = None, alert: bool = True
    ) -> str:
        """Record a failed occurrence (its claimed post, if any) and tell the admins once, naming the cause."""
        if post is not None:
            recorded = await self.bot.db.prompts.fail_post(post.id, reason, self.bot.clock.now())
        else:
            recorded = await self._record(schedule, occurrence, "failed", reason)
        if recorded and alert:
            await self.alert(schedule, f"I couldn't post the prompt for {occurrence}: {reason}.")
        return f"Failed: {reason}"

    async def _record(self, schedule: Schedule, occurrence: str, status: str, error: str | None) -> bool:
        """Record an occurrence that used no prompt (skipped, missed, failed); False if it was recorded already."""
        return await self.bot.db.prompts.record_occurrence(
            guild_id=schedule.guild_id,
            occurrence=occurrence,
            channel_id=schedule.channel_id,
            status=status,
            error=error,
            now=self.bot.clock.now(),
        )

    async def deliver(self, post: PromptPost, prompt: Prompt, channel: PromptChannel, ping_role_id: int | None) -> None:
        """Send a claimed post (a forum post, or a message and its thread) and record the ids.

        Raises _Wait or _Refused (or _Absent) when Discord won't take the post.
        """
        embed = card_embed(prompt_card(prompt, self.bot.library.store, post.occurrence))
        content = f"<@&{ping_role_id}>" if ping_role_id else None
        # The role ping is the only mention this message may make; the prompt's own text pings nobody.
        mentions = (
            discord.AllowedMentions(roles=[discord.Object(ping_role_id)], everyone=False, users=False)
            if ping_role_id
            else discord.AllowedMentions.none()
        )
        try:
            if isinstance(channel, discord.ForumChannel):
                created = await channel.create_thread(
                    name=thread_name(prompt), content=content, embed=embed, allowed_mentions=mentions
                )
            else:
                message = await channel.send(content, embed=embed, allowed_mentions=mentions)
        except Exception as error:
            raise _classified(error, channel.mention) from error
        now = self.bot.clock.now()
        if isinstance(channel, discord.ForumChannel):
            self._threads[created.thread.id] = (post.id, now)
            await self.bot.db.prompts.complete_post(post.id, created.message.id, now)
            await self.bot.db.prompts.set_post_thread(post.id, created.thread.id)
            return
        await self.bot.db.prompts.complete_post(post.id, message.id, now)
        if post.wants_thread:
            await self.ensure_thread(replace(post, status="posted", message_id=message.id))

    # --- threads ---

    async def ensure_thread(self, post: PromptPost) -> None:
        """Open the discussion thread on a posted prompt; retry a passing fault a few times, then give up."""
        if post.message_id is None or post.thread_id is not None:
            return
        prompt = await self.bot.db.prompts.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
        channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        message = channel.get_partial_message(post.message_id)
        try:
            thread = await message.create_thread(
                name=thread_name(prompt) if prompt else "Discussion", auto_archive_duration=10080
            )
        except Exception as error:
            await self._thread_failed(post, error)
            return
        self._threads[thread.id] = (post.id, self.bot.clock.now())  # before the write: count from the start
        await self.bot.db.prompts.set_post_thread(post.id, thread.id)

    async def _thread_failed(self, post: PromptPost, error: Exception) -> None:
        """Record what a failed thread creation means: found, not wanted any more, or worth another try."""
        code = error.code if isinstance(error, discord.HTTPException) else None
        if code == THREAD_ALREADY_EXISTS:
            # Created before a crash but not recorded: a message's thread has the message's id.
            assert post.message_id is not None  # noqa: S101 - checked by ensure_thread
            self._threads[post.message_id] = (post.id, self.bot.clock.now())
            await self.bot.db.prompts.set_post_thread(post.id, post.message_id)
            return
        if code in (UNKNOWN_MESSAGE, UNKNOWN_CHANNEL):
            await self.bot.db.prompts.give_up_thread(post.id, "the prompt message was deleted, so it has no thread")
            return
        where = f"<#{post.channel_id}>"
        if not is_transient(error):
            if not isinstance(error, discord.HTTPException):
                raise error
            reason = (
                f"I lack Create Public Threads in {where}, so this week's prompt has no thread"
                if isinstance(error, discord.Forbidden)
                else f"Discord wouldn't open this week's thread: {describe_fault(error, where)}"
            )
            await self._give_up_thread(post, reason)
            return
        retry_at = self.bot.clock.now() + backoff(post.thread_attempts + 1, THREAD_RETRY_FIRST, RETRY_CAP)
        attempts = await self.bot.db.prompts.retry_thread_later(post.id, retry_at)
        if attempts >= THREAD_MAX_ATTEMPTS:
            reason = (
                f"I couldn't open this week's discussion thread after {attempts} tries ({describe_fault(error, where)})"
            )
            await self._give_up_thread(post, reason)
        else:
            log.warning("Creating the thread for post %s failed (try %d); retrying at %s", post.id, attempts, retry_at)

    async def _give_up_thread(self, post: PromptPost, reason: str) -> None:
        await self.bot.db.prompts.give_up_thread(post.id, reason)
        schedule = await self.bot.db.schedules.get_schedule(post.guild_id)
        if schedule is not None:
            await self.alert(schedule, reason + ".")

    # --- recovery ---

    async def recover(self, post: PromptPost, now: datetime) -> None:
        """Finish a post claimed but not completed: find it in the channel, or send it after the usual checks."""
        schedule = await self.bot.db.schedules.get_schedule(post.guild_id)
        current = schedule is not None and schedule.next_local_date == post.occurrence
        try:
            if await self._settle_if_posted(post):
                log.info("Recovered post %s: it had been sent before", post.id)
                return
            deadline = post.deadline or post.claimed_at + RETRY_GRACE_FOR_OLD_POSTS
            if now > deadline:
                raise _Refused(_gave_up(schedule) if current and schedule else "it was not sent in time")
            if schedule is None:
                raise _Refused("the server has no schedule any more")
            channel = self.target_channel(post.guild_id, post.channel_id, post.wants_thread)
            prompt = await self.bot.db.prompts.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
            if prompt is None:
                raise _Refused("its prompt was deleted")
            await self.deliver(post, prompt, channel, schedule.ping_role_id)
        except _Wait as wait:
            if current and schedule is not None:
                await self.retry_later(schedule, now, wait.reason)
            else:  # a /prompts post-now interrupted by a restart is tried once, not retried
                await self.bot.db.prompts.fail_post(post.id, wait.reason, now)
        except _Refused as refused:
            if schedule is not None:
                await self.fail(schedule, post.occurrence, refused.reason, post=post)
            else:
                await self.bot.db.prompts.fail_post(post.id, refused.reason, now)
        except _Absent:
            await self.bot.db.prompts.fail_post(post.id, "the bot is no longer in the server", now)
            await self.guild_left(post.guild_id)

    async def _settle_if_posted(self, post: PromptPost) -> bool:
        """If the channel holds this post's message, record it (and open its thread if missing); say if it did."""
        found = await self._find_posted(post)
        if found is None:
            return False
        message_id, thread_id = found
        await self.bot.db.prompts.complete_post(post.id, message_id, self.bot.clock.now())
        if thread_id is not None:
            await self.bot.db.prompts.set_post_thread(post.id, thread_id)
        elif post.wants_thread:
            await self.ensure_thread(replace(post, status="posted", message_id=message_id))
        return True

    async def _find_posted(self, post: PromptPost) -> tuple[int, int | None] | None:
        """Look for our message with this post's marker; return (message id, thread id) if found.

        Raises _Wait when Discord fails passingly: "not found" would send a second copy.
        """
        marker = post_marker(post.occurrence)

        def ours(embed: discord.Embed) -> bool:
            return embed.footer.text == marker

        channel = self.bot.get_channel(post.channel_id)
        try:
            if not isinstance(channel, discord.ForumChannel):
                message = await self.bot.find_own_message(post.channel_id, "", post.claimed_at, legacy=ours)
                return (message.id, message.thread.id if message.thread else None) if message else None
            me = self.bot.user
            # A forum post's starter message has the thread's id.
            for thread in channel.threads:
                if me is not None and thread.owner_id == me.id:
                    starter = await thread.fetch_message(thread.id)
                    if any(ours(e) for e in starter.embeds):
                        return starter.id, thread.id
        except Exception as error:
            if is_transient(error):
                raise _Wait(describe_fault(error, f"<#{post.channel_id}>")) from error
            if not isinstance(error, discord.HTTPException):
                raise
            log.info("Could not read channel %s while recovering post %s", post.channel_id, post.id)
        return None

    # --- servers joining and leaving ---

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

    # --- admins and members ---

    async def alert(self, schedule: Schedule, text: str) -> None:
        """Tell a server's admins something about its prompts, in the mod channel or else the prompt channel."""
        for channel_id in dict.fromkeys((schedule.mod_channel_id, schedule.channel_id)):
            channel = self.bot.get_channel(channel_id) if channel_id else None
            if isinstance(channel, discord.TextChannel):
                try:
                    await channel.send(f"⚠️ Weekly prompts: {text}", allowed_mentions=discord.AllowedMentions.none())
                    return
                except discord.HTTPException:
                    continue
        log.warning("Could not alert guild %s: %s", schedule.guild_id, text)

    async def import_starters(self, guild_id: int) -> int:
        """Import the starter prompts from the content folder into a server's queue (idempotent)."""
        return await self.bot.db.prompts.import_starter_prompts(
            guild_id, self.bot.library.store.prompts, self.bot.clock.now()
        )

    async def count_message(self, message: discord.Message) -> None:
        """Count a message (and its author) if it is in a prompt's thread during the thread's first week."""
        if message.author.bot:
            return
        entry = self._threads.get(message.channel.id)
        if entry is None or self.bot.clock.now() - entry[1] > ENGAGEMENT_WINDOW:
            return
        await self.bot.db.prompts.record_thread_message(entry[0], message.author.id)
