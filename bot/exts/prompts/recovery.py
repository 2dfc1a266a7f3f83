"""Finishing posts claimed but never recorded as sent: the bot stopped in between, or Discord failed.

Before anything is sent again, the channel is searched for the post by its marker, the custom_id of its "Suggest a
prompt" button, never by its wording, so rewording posts in a release cannot make the bot post a week twice. Posts
made before the button existed are recognised by the footer those versions wrote (a frozen constant).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

import discord

from bot.bot import CLOCK_SKEW, AlignmentBot, carries_marker
from bot.domain.prompt_outcomes import NO_SCHEDULE_ANY_MORE, NOT_IN_SERVER, NOT_SENT_IN_TIME, PROMPT_DELETED, gave_up
from bot.domain.prompts import PromptPost, is_legacy_post, post_marker
from bot.exts.prompts.posting import Absent, Poster, Refused, Wait
from bot.exts.prompts.threads import PromptThreads
from bot.faults import describe_fault, is_transient

log = logging.getLogger(__name__)

RETRY_GRACE_FOR_OLD_POSTS = timedelta(hours=12)  # deadline of a post claimed before deadlines were recorded


class Recovery:
    """Finds unrecorded posts in their channel, or sends them after the same checks as a first attempt."""

    def __init__(self, bot: AlignmentBot, poster: Poster, threads: PromptThreads) -> None:
        self.bot = bot
        self.poster = poster
        self.threads = threads

    async def recover(self, post: PromptPost, now: datetime) -> None:
        """Finish a post claimed but not completed: find it in the channel, or send it after the usual checks.

        Raises Absent (after recording the post as failed) when the bot is no longer in the server.
        """
        schedule = await self.bot.db.schedules.get_schedule(post.guild_id)
        current = schedule is not None and schedule.next_local_date == post.occurrence
        try:
            if await self.settle_if_posted(post):
                log.info("Recovered post %s (guild %s): it had been sent before", post.id, post.guild_id)
                return
            deadline = post.deadline or post.claimed_at + RETRY_GRACE_FOR_OLD_POSTS
            if now > deadline:
                reason = NOT_SENT_IN_TIME
                if current and schedule is not None:
                    reason = gave_up(schedule.attempts, schedule.retry_reason)
                raise Refused(reason)
            if schedule is None:
                raise Refused(NO_SCHEDULE_ANY_MORE)
            channel = self.poster.target_channel(post.guild_id, post.channel_id, post.wants_thread)
            prompt = await self.bot.db.prompts.get_prompt(post.guild_id, post.prompt_id) if post.prompt_id else None
            if prompt is None:
                raise Refused(PROMPT_DELETED)
            await self.poster.deliver(post, prompt, channel, schedule.ping_role_id)
        except Wait as wait:
            if current and schedule is not None:
                await self.poster.retry_later(schedule, now, wait.reason)
            else:  # a /prompts-admin post-now interrupted by a restart is tried once, not retried
                await self.bot.db.prompts.fail_post(post.id, wait.reason, now)
        except Refused as refused:
            if schedule is not None:
                await self.poster.fail(schedule, post.occurrence, refused.reason, post=post)
            else:
                await self.bot.db.prompts.fail_post(post.id, refused.reason, now)
        except Absent:
            await self.bot.db.prompts.fail_post(post.id, NOT_IN_SERVER, now)
            raise

    async def settle_if_posted(self, post: PromptPost) -> bool:
        """If the channel holds this post's message, record it (and open its thread if missing); say if it did."""
        found = await self.find_posted(post)
        if found is None:
            return False
        message_id, thread_id = found
        await self.bot.db.prompts.complete_post(post.id, message_id, self.bot.clock.now())
        if thread_id is not None:
            await self.bot.db.prompts.set_post_thread(post.id, thread_id)
        elif post.wants_thread:
            await self.threads.ensure_thread(replace(post, status="posted", message_id=message_id))
        return True

    async def find_posted(self, post: PromptPost) -> tuple[int, int | None] | None:
        """Look for our message carrying this post's marker; return (message id, thread id) if found.

        Raises Wait when Discord fails passingly: "not found" would send a second copy.
        """
        marker = post_marker(post.id)

        def legacy(embed: discord.Embed) -> bool:
            return is_legacy_post(embed.footer.text, post.occurrence)

        channel = self.bot.get_channel(post.channel_id)
        try:
            if not isinstance(channel, discord.ForumChannel):
                message = await self.bot.find_own_message(post.channel_id, marker, since=post.claimed_at, legacy=legacy)
                return (message.id, message.thread.id if message.thread else None) if message else None
            me = self.bot.user
            # A forum post's starter message has the thread's id, which tells when it was made: only posts made
            # since the claim (less the clock skew) can be this one.
            since = post.claimed_at - CLOCK_SKEW
            for thread in channel.threads:
                if me is not None and thread.owner_id == me.id and discord.utils.snowflake_time(thread.id) >= since:
                    starter = await thread.fetch_message(thread.id)
                    if carries_marker(starter, marker, legacy):
                        return starter.id, thread.id
        except Exception as error:
            if is_transient(error):
                raise Wait(describe_fault(error, f"<#{post.channel_id}>")) from error
            if not isinstance(error, discord.HTTPException):
                raise
            log.info(
                "Could not read channel %s while recovering post %s (guild %s)", post.channel_id, post.id, post.guild_id
            )
        return None
