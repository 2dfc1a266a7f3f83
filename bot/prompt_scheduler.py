"""The weekly prompt scheduler: posts each server's prompt on time, exactly once, and keeps count of replies.

It sleeps until the next due time (one index lookup across all servers) or until a schedule changes. Each
occurrence is claimed in the database before posting and completed with the message and thread ids after; a
post claimed but not completed (the bot stopped in between) is found in the channel by its footer marker rather
than posted again, and a thread that failed to be created is retried. After downtime, a post missed by less than
the grace period is made late, once; older misses are skipped and reported to the admins.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

import discord

from bot.bot import AlignmentBot
from bot.clock import sleep_until_or_woken
from bot.domain.prompts import (
    LOW_QUEUE,
    Prompt,
    PromptPost,
    Schedule,
    choose_next,
    post_marker,
    prompt_card,
    thread_name,
)
from bot.domain.schedule import Occurrence, load_zone, missed_since, next_occurrence
from bot.render import card_embed

log = logging.getLogger(__name__)

THREAD_RETRY = timedelta(minutes=5)
PASS_RETRY = timedelta(minutes=1)
ENGAGEMENT_WINDOW = timedelta(days=7)


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


class PromptScheduler:
    """Posts due prompts for every server; one instance per bot, owned by the Prompts cog."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        #: Held while a pass posts, so /prompts post-now or a schedule change never interleaves with it.
        self.busy = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread_retry_at: datetime | None = None
        self._threads: dict[int, tuple[int, datetime]] = {}  # recent prompt threads -> (post id, posted at)

    def start(self) -> None:
        """Start the background loop."""
        self._task = asyncio.create_task(self._run_forever(), name="prompts-scheduler")

    async def stop(self) -> None:
        """Stop the loop, letting a post that has begun finish and be recorded first."""
        async with self.busy:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def _run_forever(self) -> None:
        await self.bot.wait_until_ready()
        for guild in self.bot.guilds:
            await self.import_starters(guild.id)
        self._threads = await self.bot.db.recent_threads(self.bot.clock.now() - ENGAGEMENT_WINDOW)
        while True:
            not_before = None
            try:
                async with self.busy:
                    await self.run_due()
            except Exception:
                # Discord hiccups (429, 5xx, disconnects) must never stop the weekly posts, nor spin in a loop.
                log.exception("Prompt scheduler pass failed; trying again in a minute")
                not_before = self.bot.clock.now() + PASS_RETRY
            moments = [m for m in (await self.bot.db.next_schedule_due(), self._thread_retry_at) if m is not None]
            wake_at = min(moments, default=None)
            if wake_at is not None and not_before is not None:
                wake_at = max(wake_at, not_before)
            await sleep_until_or_woken(self.bot.clock, wake_at, self._wake)

    def wake(self) -> None:
        """Re-read the schedules now (after one changed)."""
        self._wake.set()

    async def run_due(self) -> None:
        """Recover unfinished posts, retry missing threads, then handle every due occurrence."""
        now = self.bot.clock.now()
        for post in await self.bot.db.claimed_posts():
            await self.recover(post, now)
        if self._thread_retry_at is None or now >= self._thread_retry_at:
            self._thread_retry_at = None
            for post in await self.bot.db.posts_missing_thread():
                await self.ensure_thread(post)
        for schedule in await self.bot.db.due_schedules(now):
            await self.handle_due(schedule, now)

    async def handle_due(self, schedule: Schedule, now: datetime) -> None:
        """Post (late if within the grace period), skip, or report a missed occurrence; then move on."""
        zone = load_zone(schedule.timezone)
        due = Occurrence(date.fromisoformat(schedule.next_local_date), schedule.next_due_at)
        # Always move past `now`: after downtime there is at most one (late) post, never a backlog burst.
        following = next_occurrence(max(now, due.due), schedule.weekday, schedule.local_time, zone)
        if schedule.skip_next:
            await self.bot.db.record_occurrence(
                guild_id=schedule.guild_id,
                occurrence=schedule.next_local_date,
                channel_id=schedule.channel_id,
                status="skipped",
                error=None,
                now=now,
            )
            await self.bot.db.advance_schedule(schedule.guild_id, following, f"Skipped {schedule.next_local_date}")
            return
        if now - due.due > timedelta(hours=schedule.grace_hours):
            missed = missed_since(due, now, schedule.weekday, schedule.local_time, zone)
            await self.bot.db.record_occurrence(
                guild_id=schedule.guild_id,
                occurrence=schedule.next_local_date,
                channel_id=schedule.channel_id,
                status="missed",
                error="the bot was offline",
                now=now,
            )
            outcome = f"Missed {missed} weekly post(s) while offline (from {schedule.next_local_date}); not made up."
            await self.bot.db.advance_schedule(schedule.guild_id, following, outcome)
            await self.alert(schedule, outcome)
            return
        outcome = await self.post(schedule, schedule.next_local_date)
        await self.bot.db.advance_schedule(schedule.guild_id, following, outcome)

    async def post(self, schedule: Schedule, occurrence: str) -> str:
        """Post the next prompt for `occurrence` once; return what happened, in a sentence."""
        now = self.bot.clock.now()
        guild = self.bot.get_guild(schedule.guild_id)
        channel = guild.get_channel(schedule.channel_id) if guild else None
        if guild is None or not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            return await self.fail(schedule, occurrence, "the prompt channel no longer exists; run /prompts schedule")
        missing = missing_permissions(channel, guild.me, schedule.open_thread)
        if missing:
            reason = f"I lack {', '.join(missing)} in {channel.mention}"
            return await self.fail(schedule, occurrence, reason)
        approved = await self.bot.db.list_prompts(schedule.guild_id, "approved", limit=500)
        last = await self.bot.db.last_posted_prompt(schedule.guild_id)
        prompt = choose_next(approved, last.tags if last else ())
        if prompt is None:
            return await self.fail(schedule, occurrence, "no approved prompts are left; add some with /prompts add")
        post = await self.bot.db.claim_post(
            guild_id=schedule.guild_id,
            occurrence=occurrence,
            prompt_id=prompt.id,
            channel_id=channel.id,
            wants_thread=schedule.open_thread or isinstance(channel, discord.ForumChannel),
            now=now,
        )
        if post is None:
            return f"Already posted for {occurrence}"
        await self.deliver(post, prompt, channel, schedule.ping_role_id)
        remaining = await self.bot.db.count_prompts(schedule.guild_id, "approved")
        if remaining <= LOW_QUEUE:
            await self.alert(
                schedule,
                f"Only {remaining} approved prompt(s) left. Add more with `/prompts add` or approve suggestions.",
            )
        return f"Posted prompt #{prompt.id} for {occurrence}"

    async def fail(self, schedule: Schedule, occurrence: str, reason: str) -> str:
        """Record a failed occurrence and tell the admins exactly why."""
        recorded = await self.bot.db.record_occurrence(
            guild_id=schedule.guild_id,
            occurrence=occurrence,
            channel_id=schedule.channel_id,
            status="failed",
            error=reason,
            now=self.bot.clock.now(),
        )
        if recorded:
            await self.alert(schedule, f"I couldn't post this week's prompt: {reason}.")
        return f"Failed: {reason}"

    async def deliver(
        self,
        post: PromptPost,
        prompt: Prompt,
        channel: discord.TextChannel | discord.ForumChannel,
        ping_role_id: int | None,
    ) -> None:
        """Send a claimed post (a forum post, or a message and its thread) and record the ids."""
        embed = card_embed(prompt_card(prompt, self.bot.library.store, post.occurrence))
        content = f"<@&{ping_role_id}>" if ping_role_id else None
        # The role ping is the only mention this message may make; the prompt's own text pings nobody.
        mentions = (
            discord.AllowedMentions(roles=[discord.Object(ping_role_id)], everyone=False, users=False)
            if ping_role_id
            else discord.AllowedMentions.none()
        )
        if isinstance(channel, discord.ForumChannel):
            created = await channel.create_thread(
                name=thread_name(prompt), content=content, embed=embed, allowed_mentions=mentions
            )
            self._threads[created.thread.id] = (post.id, self.bot.clock.now())
            await self.bot.db.complete_post(post.id, created.message.id, self.bot.clock.now())
            await self.bot.db.set_post_thread(post.id, created.thread.id)
            return
        message = await channel.send(content, embed=embed, allowed_mentions=mentions)
        await self.bot.db.complete_post(post.id, message.id, self.bot.clock.now())
        if post.wants_thread:
            await self.ensure_thread(replace(post, status="posted", message_id=message.id))

    async def ensure_thread(self, post: PromptPost) -> None:
        """Open the discussion thread on a posted prompt; retry later on a passing error."""
        if post.message_id is None or post.thread_id is not None:
            return
        prompt = await self.bot.db.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
        channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        message = channel.get_partial_message(post.message_id)
        try:
            thread = await message.create_thread(
                name=thread_name(prompt) if prompt else "Discussion", auto_archive_duration=10080
            )
        except discord.Forbidden:
            reason = "I lack Create Public Threads, so this week's prompt has no thread"
            await self.bot.db.give_up_thread(post.id, reason)
            schedule = await self.bot.db.get_schedule(post.guild_id)
            if schedule is not None:
                await self.alert(schedule, reason + ".")
            return
        except discord.HTTPException:
            log.warning("Creating the thread for post %s failed; retrying later", post.id, exc_info=True)
            self._thread_retry_at = self.bot.clock.now() + THREAD_RETRY
            return
        self._threads[thread.id] = (post.id, self.bot.clock.now())  # before the write: count from the start
        await self.bot.db.set_post_thread(post.id, thread.id)

    async def recover(self, post: PromptPost, now: datetime) -> None:
        """Finish a post claimed before the bot stopped: find it in the channel, or send it if it never went out."""
        schedule = await self.bot.db.get_schedule(post.guild_id)
        grace = timedelta(hours=schedule.grace_hours if schedule else 12)
        existing = await self._find_posted(post)
        if existing is not None:
            message_id, thread_id = existing
            await self.bot.db.complete_post(post.id, message_id, now)
            if thread_id is not None:
                await self.bot.db.set_post_thread(post.id, thread_id)
            elif post.wants_thread:
                await self.ensure_thread(replace(post, status="posted", message_id=message_id))
            log.info("Recovered post %s: it had been sent before the restart", post.id)
            return
        guild = self.bot.get_guild(post.guild_id)
        channel = guild.get_channel(post.channel_id) if guild else None
        prompt = await self.bot.db.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
        if (
            now - post.claimed_at > grace
            or prompt is None
            or not isinstance(channel, discord.TextChannel | discord.ForumChannel)
        ):
            await self.bot.db.fail_post(post.id, "not sent before the bot stopped", now)
            return
        await self.deliver(post, prompt, channel, schedule.ping_role_id if schedule else None)

    async def _find_posted(self, post: PromptPost) -> tuple[int, int | None] | None:
        """Look for our message with this post's marker; return (message id, thread id) if found."""
        marker = post_marker(post.occurrence)

        def ours(embed: discord.Embed) -> bool:
            return embed.footer.text == marker

        channel = self.bot.get_channel(post.channel_id)
        if not isinstance(channel, discord.ForumChannel):
            message = await self.bot.find_own_message(post.channel_id, ours)
            return (message.id, message.thread.id if message.thread else None) if message else None
        me = self.bot.user
        try:
            # A forum post's starter message has the thread's id.
            for thread in channel.threads:
                if me is not None and thread.owner_id == me.id:
                    starter = await thread.fetch_message(thread.id)
                    if any(ours(e) for e in starter.embeds):
                        return starter.id, thread.id
        except discord.HTTPException:
            log.info("Could not read forum %s while recovering post %s", post.channel_id, post.id)
        return None

    async def alert(self, schedule: Schedule, text: str) -> None:
        """Tell a server's admins something about its prompts, in the mod channel or else the prompt channel."""
        for channel_id in (schedule.mod_channel_id, schedule.channel_id):
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
        return await self.bot.db.import_starter_prompts(guild_id, self.bot.library.store.prompts, self.bot.clock.now())

    async def count_message(self, message: discord.Message) -> None:
        """Count a message (and its author) if it is in a prompt's thread during the thread's first week."""
        if message.author.bot:
            return
        entry = self._threads.get(message.channel.id)
        if entry is None or self.bot.clock.now() - entry[1] > ENGAGEMENT_WINDOW:
            return
        await self.bot.db.record_thread_message(entry[0], message.author.id)
