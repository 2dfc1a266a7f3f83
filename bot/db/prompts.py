"""Weekly prompts: the queue of prompts, and each posting of one (claimed, posted, failed) with its thread."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.db.base import RollBack, Storage
from bot.db.rows import from_row, parse_datetime, to_sql
from bot.db.shards import shard_condition
from bot.domain.content import StarterPrompt
from bot.domain.prompts import PostStats, Prompt, PromptPost, PromptStatus
from bot.domain.shards import EVERY_SHARD, ShardScope


class PromptQueries:
    """The prompt queue and its posts."""

    def __init__(self, db: Storage) -> None:
        self._db = db

    async def import_starter_prompts(self, guild_id: int, starters: Iterable[StarterPrompt], now: datetime) -> int:
        """Add the starter prompts a server doesn't have yet (never twice, even if since retired); return the count."""
        added = 0
        async with self._db.transaction():
            for starter in starters:
                added += await self._db.execute(
                    "INSERT INTO prompts (guild_id, title, text, concept_id, tags, starter_id, status, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'approved', ?) ON CONFLICT (guild_id, starter_id) DO NOTHING",
                    (
                        guild_id,
                        starter.title,
                        starter.text,
                        starter.concept,
                        ",".join(starter.tags),
                        starter.id,
                        to_sql(now),
                    ),
                )
        return added

    async def add_prompt(
        self,
        *,
        guild_id: int,
        text: str,
        title: str | None,
        concept_id: str | None,
        tags: tuple[str, ...],
        author_id: int,
        status: PromptStatus,
        now: datetime,
    ) -> Prompt:
        """Add a prompt to a server's queue."""
        row = await self._db.fetchone(
            "INSERT INTO prompts (guild_id, title, text, concept_id, tags, author_id, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (guild_id, title, text, concept_id, ",".join(tags), author_id, status, to_sql(now)),
        )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return from_row(Prompt, row)

    async def get_prompt(self, guild_id: int, prompt_id: int) -> Prompt | None:
        """Return one of a server's prompts."""
        row = await self._db.fetchone("SELECT * FROM prompts WHERE guild_id = ? AND id = ?", (guild_id, prompt_id))
        return from_row(Prompt, row) if row else None

    async def review_prompt(
        self, guild_id: int, prompt_id: int, status: PromptStatus, reviewer_id: int
    ) -> Prompt | None:
        """Approve or reject a suggestion, only if it is still waiting (compare-and-set); None if it is not."""
        row = await self._db.fetchone(
            "UPDATE prompts SET status = ?, reviewed_by = ? WHERE guild_id = ? AND id = ? AND status = 'suggested' "
            "RETURNING *",
            (status, reviewer_id, guild_id, prompt_id),
        )
        return from_row(Prompt, row) if row else None

    async def update_prompt(
        self,
        guild_id: int,
        prompt_id: int,
        *,
        text: str | None = None,
        title: str | None = None,
        concept_id: str | None = None,
        tags: tuple[str, ...] | None = None,
        status: PromptStatus | None = None,
    ) -> Prompt | None:
        """Change the given fields of a prompt; return it, or None if the server has no such prompt."""
        row = await self._db.fetchone(
            "UPDATE prompts SET text = coalesce(?, text), title = coalesce(?, title), "
            "concept_id = coalesce(?, concept_id), tags = coalesce(?, tags), status = coalesce(?, status) "
            "WHERE guild_id = ? AND id = ? RETURNING *",
            (text, title, concept_id, ",".join(tags) if tags is not None else None, status, guild_id, prompt_id),
        )
        return from_row(Prompt, row) if row else None

    async def list_prompts(
        self, guild_id: int, status: PromptStatus | None, *, offset: int = 0, limit: int = 10
    ) -> list[Prompt]:
        """Return a page of a server's prompts, oldest first, optionally of one status."""
        rows = await self._db.fetchall(
            "SELECT * FROM prompts WHERE guild_id = ? AND status = coalesce(?, status) "
            "ORDER BY created_at, id LIMIT ? OFFSET ?",
            (guild_id, status, limit, offset),
        )
        return [from_row(Prompt, row) for row in rows]

    async def count_prompts(self, guild_id: int, status: PromptStatus | None = None) -> int:
        """Count a server's prompts, optionally of one status."""
        row = await self._db.fetchone(
            "SELECT count(*) FROM prompts WHERE guild_id = ? AND status = coalesce(?, status)", (guild_id, status)
        )
        return int(row[0]) if row else 0

    async def last_posted_prompt(self, guild_id: int) -> Prompt | None:
        """Return the prompt most recently posted in a server."""
        row = await self._db.fetchone(
            "SELECT p.* FROM prompt_posts pp JOIN prompts p ON p.id = pp.prompt_id "
            "WHERE pp.guild_id = ? AND pp.status = 'posted' ORDER BY pp.id DESC LIMIT 1",
            (guild_id,),
        )
        return from_row(Prompt, row) if row else None

    async def claim_post(
        self,
        *,
        guild_id: int,
        occurrence: str,
        prompt_id: int,
        channel_id: int,
        wants_thread: bool,
        now: datetime,
        deadline: datetime,
    ) -> PromptPost | None:
        """Claim an occurrence for a prompt before posting it; None if the occurrence or the prompt was taken.

        The prompt leaves the queue in the same transaction, and only if it is still approved, so it is never
        posted twice, even by two posts racing for it.
        """
        try:
            async with self._db.transaction():
                taken = await self._db.execute(
                    "UPDATE prompts SET status = 'posted', posted_at = ? WHERE id = ? AND status = 'approved'",
                    (to_sql(now), prompt_id),
                )
                row = await self._db.fetchone(
                    "INSERT INTO prompt_posts (guild_id, occurrence, prompt_id, channel_id, status, claimed_at, "
                    "wants_thread, deadline) SELECT ?, ?, ?, ?, 'claimed', ?, ?, ? WHERE ? = 1 "
                    "ON CONFLICT (guild_id, occurrence) DO NOTHING RETURNING *",
                    (
                        guild_id,
                        occurrence,
                        prompt_id,
                        channel_id,
                        to_sql(now),
                        int(wants_thread),
                        to_sql(deadline),
                        taken,
                    ),
                )
                if row is None:
                    raise RollBack
        except RollBack:
            return None
        return from_row(PromptPost, row)

    async def post_for_occurrence(self, guild_id: int, occurrence: str) -> PromptPost | None:
        """Return what was recorded for one of a server's occurrences (claimed, posted, failed, ...), if anything."""
        row = await self._db.fetchone(
            "SELECT * FROM prompt_posts WHERE guild_id = ? AND occurrence = ?", (guild_id, occurrence)
        )
        return from_row(PromptPost, row) if row else None

    async def record_occurrence(
        self, *, guild_id: int, occurrence: str, channel_id: int, status: str, error: str | None, now: datetime
    ) -> bool:
        """Record a skipped, missed or failed occurrence (no prompt used); False if it was already recorded."""
        changed = await self._db.execute(
            "INSERT INTO prompt_posts (guild_id, occurrence, channel_id, status, claimed_at, completed_at, "
            "wants_thread, error) VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (guild_id, occurrence) DO NOTHING",
            (guild_id, occurrence, channel_id, status, to_sql(now), to_sql(now), error),
        )
        return changed == 1

    async def complete_post(self, post_id: int, message_id: int, now: datetime) -> None:
        """Mark a claimed post as posted, with its message."""
        await self._db.execute(
            "UPDATE prompt_posts SET status = 'posted', message_id = ?, completed_at = ? WHERE id = ?",
            (message_id, to_sql(now), post_id),
        )

    async def fail_post(self, post_id: int, error: str, now: datetime) -> bool:
        """Mark a claimed post as failed and put its prompt back in the queue; False if it was not claimed."""
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE prompt_posts SET status = 'failed', error = ?, completed_at = ? "
                "WHERE id = ? AND status = 'claimed'",
                (error, to_sql(now), post_id),
            )
            if changed:
                await self._db.execute(
                    "UPDATE prompts SET status = 'approved', posted_at = NULL "
                    "WHERE id = (SELECT prompt_id FROM prompt_posts WHERE id = ?)",
                    (post_id,),
                )
        return changed == 1

    async def set_post_thread(self, post_id: int, thread_id: int) -> None:
        """Remember the discussion thread of a post."""
        await self._db.execute("UPDATE prompt_posts SET thread_id = ? WHERE id = ?", (thread_id, post_id))

    async def give_up_thread(self, post_id: int, error: str) -> None:
        """Stop trying to open a thread for a post (e.g. the permission is missing), keeping the reason."""
        await self._db.execute(
            "UPDATE prompt_posts SET wants_thread = 0, thread_retry_at = NULL, error = ? WHERE id = ?", (error, post_id)
        )

    async def retry_thread_later(self, post_id: int, retry_at: datetime) -> int:
        """Note a failed attempt at a post's thread and when to try again; return the number of attempts."""
        row = await self._db.fetchone(
            "UPDATE prompt_posts SET thread_attempts = thread_attempts + 1, thread_retry_at = ? WHERE id = ? "
            "RETURNING thread_attempts",
            (to_sql(retry_at), post_id),
        )
        return int(row[0]) if row else 0

    async def claimed_posts(self, now: datetime, shards: ShardScope = EVERY_SHARD) -> list[PromptPost]:
        """Return posts claimed but never completed (the bot stopped, or Discord failed), unless waiting to retry.

        Only in the servers of `shards` (every server by default).
        """
        in_shards, shard_params = shard_condition(shards, "pp.guild_id")
        rows = await self._db.fetchall(
            "SELECT pp.* FROM prompt_posts pp LEFT JOIN prompt_schedules s ON s.guild_id = pp.guild_id "  # noqa: S608 - numbers only
            "WHERE pp.status = 'claimed' AND (s.retry_at IS NULL OR s.retry_at <= ?) "
            f"AND {in_shards} ORDER BY pp.id",
            (to_sql(now), *shard_params),
        )
        return [from_row(PromptPost, row) for row in rows]

    async def posts_missing_thread(self, now: datetime, shards: ShardScope = EVERY_SHARD) -> list[PromptPost]:
        """Return completed posts (in servers of `shards`) that should have a thread but don't, and aren't waiting."""
        in_shards, shard_params = shard_condition(shards)
        rows = await self._db.fetchall(
            "SELECT * FROM prompt_posts WHERE status = 'posted' AND wants_thread = 1 AND thread_id IS NULL "  # noqa: S608 - numbers only
            f"AND (thread_retry_at IS NULL OR thread_retry_at <= ?) AND {in_shards} ORDER BY id",
            (to_sql(now), *shard_params),
        )
        return [from_row(PromptPost, row) for row in rows]

    async def next_thread_retry(self, shards: ShardScope = EVERY_SHARD) -> datetime | None:
        """Return when the next thread retry (in a server of `shards`) is due."""
        in_shards, shard_params = shard_condition(shards)
        row = await self._db.fetchone(
            "SELECT min(thread_retry_at) FROM prompt_posts "  # noqa: S608 - numbers only
            f"WHERE status = 'posted' AND wants_thread = 1 AND thread_id IS NULL AND {in_shards}",
            shard_params,
        )
        return parse_datetime(row[0]) if row else None

    async def recent_threads(self, since: datetime) -> dict[int, tuple[int, datetime]]:
        """Return {thread id: (post id, posted at)} for posts completed since `since`."""
        rows = await self._db.fetchall(
            "SELECT id, thread_id, completed_at FROM prompt_posts WHERE thread_id IS NOT NULL AND completed_at >= ?",
            (to_sql(since),),
        )
        return {int(r["thread_id"]): (int(r["id"]), datetime.fromisoformat(r["completed_at"])) for r in rows}

    async def record_thread_message(self, post_id: int, user_id: int) -> None:
        """Count one message in a prompt's thread, and its author as a participant."""
        async with self._db.transaction():
            await self._db.execute("UPDATE prompt_posts SET messages = messages + 1 WHERE id = ?", (post_id,))
            await self._db.execute(
                "INSERT INTO prompt_thread_members (post_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (post_id, user_id),
            )

    async def post_stats(self, guild_id: int, limit: int = 10) -> list[PostStats]:
        """Return engagement for a server's most recent posts, newest first (two queries, whatever the limit)."""
        rows = await self._db.fetchall(
            "SELECT pp.*, (SELECT count(*) FROM prompt_thread_members m WHERE m.post_id = pp.id) AS participants "
            "FROM prompt_posts pp WHERE pp.guild_id = ? AND pp.status = 'posted' ORDER BY pp.id DESC LIMIT ?",
            (guild_id, limit),
        )
        prompt_ids = sorted({int(row["prompt_id"]) for row in rows if row["prompt_id"] is not None})
        marks = ", ".join("?" * len(prompt_ids))
        prompts = {
            prompt.id: prompt
            for prompt in [
                from_row(Prompt, row)
                for row in await self._db.fetchall(
                    f"SELECT * FROM prompts WHERE guild_id = ? AND id IN ({marks})",  # noqa: S608 - only placeholders
                    (guild_id, *prompt_ids),
                )
            ]
        }
        return [
            PostStats(
                from_row(PromptPost, row),
                prompts.get(row["prompt_id"]),
                int(row["messages"]),
                int(row["participants"]),
            )
            for row in rows
        ]
