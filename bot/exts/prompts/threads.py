"""Discussion threads on prompt posts: opening them with bounded retries, and counting the discussion in them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

import discord

from bot.background import backoff
from bot.bot import AlignmentBot
from bot.domain.prompt_outcomes import MESSAGE_DELETED, thread_gave_up, thread_not_allowed, thread_refused
from bot.domain.prompts import PromptPost, RecentThreads, thread_name
from bot.exts.prompts.alerts import alert_admins
from bot.faults import THREAD_ALREADY_EXISTS, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, describe_fault, is_transient

log = logging.getLogger(__name__)

THREAD_RETRY_FIRST = timedelta(minutes=2)  # a passing fault is retried after 2 min, 4 min, 8 min, ...
THREAD_RETRY_CAP = timedelta(minutes=30)
THREAD_MAX_ATTEMPTS = 5  # then the post keeps no thread and the admins are told
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week without messages, the longest Discord allows


class PromptThreads:
    """Opens each post's thread and counts messages in the threads of the past week."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.recent = RecentThreads()

    async def load(self) -> None:
        """Read the threads of the past week from the database (on start-up)."""
        now = self.bot.clock.now()
        self.recent.reset(await self.bot.db.prompts.recent_threads(now - self.recent.window), now)

    def opened(self, thread_id: int, post_id: int) -> None:
        """Start counting a post's thread from now."""
        self.recent.add(thread_id, post_id, self.bot.clock.now())

    async def count_message(self, message: discord.Message) -> None:
        """Count a message (and its author) if it is in a prompt's thread during the thread's first week."""
        if message.author.bot:
            return
        post_id = self.recent.post_for(message.channel.id, self.bot.clock.now())
        if post_id is not None:
            await self.bot.db.prompts.record_thread_message(post_id, message.author.id)

    async def ensure_thread(self, post: PromptPost) -> None:
        """Open the discussion thread on a posted prompt; retry a passing fault a few times, then give up."""
        if post.message_id is None or post.thread_id is not None:
            return
        prompt = await self.bot.db.prompts.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
        channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        message = channel.get_partial_message(post.message_id)
        try:
            thread = await message.create_thread(
                name=thread_name(prompt) if prompt else "Discussion", auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except Exception as error:
            await self._failed(post, error)
            return
        self.opened(thread.id, post.id)  # before the write: count from the start
        await self.bot.db.prompts.set_post_thread(post.id, thread.id)

    async def _failed(self, post: PromptPost, error: Exception) -> None:
        """Record what a failed thread creation means: found, not wanted any more, or worth another try."""
        code = error.code if isinstance(error, discord.HTTPException) else None
        if code == THREAD_ALREADY_EXISTS:
            # Created before a crash but not recorded: a message's thread has the message's id.
            assert post.message_id is not None  # noqa: S101 - checked by ensure_thread
            self.opened(post.message_id, post.id)
            await self.bot.db.prompts.set_post_thread(post.id, post.message_id)
            return
        if code in (UNKNOWN_MESSAGE, UNKNOWN_CHANNEL):
            await self.bot.db.prompts.give_up_thread(post.id, MESSAGE_DELETED)
            return
        where = f"<#{post.channel_id}>"
        if not is_transient(error):
            if not isinstance(error, discord.HTTPException):
                raise error
            reason = (
                thread_not_allowed(where)
                if isinstance(error, discord.Forbidden)
                else thread_refused(describe_fault(error, where))
            )
            await self._give_up(post, reason)
            return
        retry_at = self.bot.clock.now() + backoff(post.thread_attempts + 1, THREAD_RETRY_FIRST, THREAD_RETRY_CAP)
        attempts = await self.bot.db.prompts.retry_thread_later(post.id, retry_at)
        if attempts >= THREAD_MAX_ATTEMPTS:
            await self._give_up(post, thread_gave_up(attempts, describe_fault(error, where)))
        else:
            log.warning(
                "Creating the thread for post %s (guild %s) failed (try %d); retrying at %s",
                post.id,
                post.guild_id,
                attempts,
                retry_at,
            )

    async def _give_up(self, post: PromptPost, reason: str) -> None:
        await self.bot.db.prompts.give_up_thread(post.id, reason)
        schedule = await self.bot.db.schedules.get_schedule(post.guild_id)
        if schedule is not None:
            await alert_admins(self.bot, schedule, reason + ".")
