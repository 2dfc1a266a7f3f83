"""Posting one prompt: the checks first, the claim in the database, the message (or forum post), the record after.

Discord's answers are sorted into three kinds: a passing fault (`Wait`: try again later, within the occurrence's
deadline), a permanent refusal (`Refused`: the occurrence fails and the admins are told once why), and the bot no
longer being in the server (`Absent`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

import discord

from bot import metrics
from bot.background import backoff
from bot.bot import AlignmentBot
from bot.domain.prompt_cards import prompt_card
from bot.domain.prompt_outcomes import (
    CHANNEL_GONE,
    PROMPT_TAKEN,
    QUEUE_EMPTY,
    SERVER_NOT_ANNOUNCED,
    SERVER_UNAVAILABLE,
    describe_outcome,
    failed_outcome,
    lacking,
    post_failed,
    queue_running_low,
)
from bot.domain.prompts import LOW_QUEUE, Prompt, PromptPost, Schedule, choose_next, thread_name
from bot.domain.text import permission_name
from bot.exts.prompts.alerts import alert_admins
from bot.exts.prompts.review import post_view
from bot.exts.prompts.threads import PromptThreads
from bot.faults import UNKNOWN_GUILD, describe_fault, is_transient
from bot.render import card_embed

log = logging.getLogger(__name__)

RETRY_FIRST = timedelta(seconds=15)  # a passing fault is retried after 15 s, 30 s, 1 min, ... (within the deadline)
RETRY_CAP = timedelta(minutes=30)

PromptChannel = discord.TextChannel | discord.ForumChannel


class Wait(Exception):
    """A passing fault: try this server again later (within the occurrence's deadline)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """A permanent refusal: this occurrence fails and the admins are told why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Absent(Exception):
    """The bot is no longer in the server."""


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member, open_thread: bool) -> list[str]:
    """Name the permissions the bot lacks to post a prompt (and its thread) in `channel`."""
    permissions = channel.permissions_for(me)
    # Without View Channel or Send Messages, Discord denies what depends on them too; name only the root cause.
    for root in ("view_channel", "send_messages"):
        if not getattr(permissions, root):
            return [permission_name(root)]
    needed = ["embed_links"]
    if open_thread or isinstance(channel, discord.ForumChannel):
        needed += ["send_messages_in_threads"]
    if open_thread and not isinstance(channel, discord.ForumChannel):
        needed += ["create_public_threads"]
    return [permission_name(name) for name in needed if not getattr(permissions, name)]


def classified(error: Exception, where: str) -> Exception:
    """Turn Discord's answer into Wait (passing) or Refused / Absent (permanent); other errors stay as they are."""
    metrics.count_error(error)
    if is_transient(error):
        return Wait(describe_fault(error, where))
    if isinstance(error, discord.HTTPException):
        return Absent() if error.code == UNKNOWN_GUILD else Refused(describe_fault(error, where))
    return error


class Poster:
    """Posts prompts and records what became of each occurrence."""

    def __init__(self, bot: AlignmentBot, threads: PromptThreads) -> None:
        self.bot = bot
        self.threads = threads

    def target_channel(self, guild_id: int, channel_id: int, open_thread: bool) -> PromptChannel:
        """Return the channel to post in, or raise Wait / Refused / Absent saying why not now."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            # Once ready, every server we are in is in the cache (if only as unavailable): we were removed.
            if self.bot.is_ready():
                raise Absent
            raise Wait(SERVER_NOT_ANNOUNCED)
        if guild.unavailable:
            raise Wait(SERVER_UNAVAILABLE)
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, PromptChannel):
            raise Refused(CHANNEL_GONE)
        missing = missing_permissions(channel, guild.me, open_thread)
        if missing:
            raise Refused(lacking(missing, channel.mention))
        return channel

    async def post(self, schedule: Schedule, occurrence: str, deadline: datetime, *, alert: bool = True) -> str:
        """Post the next prompt for `occurrence` once; return what happened, in a sentence.

        A refusal is recorded (and, with `alert`, the admins told) here. Raises Wait for a passing fault (a claimed
        post is kept, for recovery to find or resend) and Absent when the bot is no longer in the server.
        """
        try:
            channel = self.target_channel(schedule.guild_id, schedule.channel_id, schedule.open_thread)
            approved = await self.bot.db.prompts.list_prompts(schedule.guild_id, "approved", limit=500)
            last = await self.bot.db.prompts.last_posted_prompt(schedule.guild_id)
            prompt = choose_next(approved, last.tags if last else ())
            if prompt is None:
                raise Refused(QUEUE_EMPTY)
        except Refused as refused:
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
            raise Wait(PROMPT_TAKEN)
        try:
            await self.deliver(post, prompt, channel, schedule.ping_role_id)
        except Refused as refused:
            return await self.fail(schedule, occurrence, refused.reason, post=post, alert=alert)
        remaining = await self.bot.db.prompts.count_prompts(schedule.guild_id, "approved")
        if remaining <= LOW_QUEUE:
            await alert_admins(self.bot, schedule, queue_running_low(remaining))
        metrics.PROMPTS.labels("posted").inc()
        return describe_outcome(replace(post, status="posted"))

    async def deliver(self, post: PromptPost, prompt: Prompt, channel: PromptChannel, ping_role_id: int | None) -> None:
        """Send a claimed post (a forum post, or a message and its thread) and record the ids.

        The post carries its "Suggest a prompt" button, whose custom_id is the marker recovery looks for.
        Raises Wait or Refused (or Absent) when Discord won't take the post.
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
                    name=thread_name(prompt),
                    content=content,
                    embed=embed,
                    view=post_view(post.id),
                    allowed_mentions=mentions,
                )
            else:
                message = await channel.send(content, embed=embed, view=post_view(post.id), allowed_mentions=mentions)
        except Exception as error:
            raise classified(error, channel.mention) from error
        now = self.bot.clock.now()
        if isinstance(channel, discord.ForumChannel):
            self.threads.opened(created.thread.id, post.id)
            await self.bot.db.prompts.complete_post(post.id, created.message.id, now)
            await self.bot.db.prompts.set_post_thread(post.id, created.thread.id)
            return
        await self.bot.db.prompts.complete_post(post.id, message.id, now)
        if post.wants_thread:
            await self.threads.ensure_thread(replace(post, status="posted", message_id=message.id))

    async def fail(
        self, schedule: Schedule, occurrence: str, reason: str, *, post: PromptPost | None = None, alert: bool = True
    ) -> str:
        """Record a failed occurrence (its claimed post, if any) and tell the admins once, naming the cause."""
        metrics.PROMPTS.labels("failed").inc()
        if post is not None:
            recorded = await self.bot.db.prompts.fail_post(post.id, reason, self.bot.clock.now())
        else:
            recorded = await self.record(schedule, occurrence, "failed", reason)
        if recorded and alert:
            await alert_admins(self.bot, schedule, post_failed(occurrence, reason))
        return failed_outcome(reason)

    async def record(self, schedule: Schedule, occurrence: str, status: str, error: str | None) -> bool:
        """Record an occurrence that used no prompt (skipped, missed, failed); False if it was recorded already."""
        return await self.bot.db.prompts.record_occurrence(
            guild_id=schedule.guild_id,
            occurrence=occurrence,
            channel_id=schedule.channel_id,
            status=status,
            error=error,
            now=self.bot.clock.now(),
        )

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
