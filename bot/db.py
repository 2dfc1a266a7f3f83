"""The one database module: a single aiosqlite connection and one small typed method per query."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import aiosqlite

from bot import migrations
from bot.domain.content import StarterPrompt
from bot.domain.pdoom import PollRound, PollSettings, RoundAlreadyOpen, RoundClosed, Submission
from bot.domain.prompts import PostStats, Prompt, PromptPost, PromptStatus, Schedule
from bot.domain.schedule import Occurrence

log = logging.getLogger(__name__)

# Set while the current task holds the write lock inside `transaction()`, so queries it runs don't wait on it.
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)


class _RollBack(Exception):
    """Raised inside `transaction()` to undo it quietly."""


class Database:
    """The bot's SQLite database. Open it with `Database.open(path)`, which also migrates it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        # One connection is shared by every coroutine; the lock keeps a transaction's statements together.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: Path | str,
        migration_files: list[migrations.Migration] | None = None,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> Self:
        """Connect (creating the file and its folder), enable WAL and foreign keys, and apply migrations.

        `synchronous`: FULL (the default) syncs every commit to disk, so a vote the member was told about
        survives a power loss; NORMAL is faster but a power loss may undo the last commits (DATABASE_SYNCHRONOUS).
        """
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit transactions.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            # First, so that a second process opening the file at the same moment waits instead of failing.
            await conn.execute("PRAGMA busy_timeout = 5000")
            # Turning a new file to WAL takes an exclusive lock. When two connections try at the same moment,
            # SQLite answers one "database is locked" at once instead of waiting (waiting could deadlock), so
            # retry for about as long as busy_timeout would wait.
            for attempt in range(100):
                try:
                    await conn.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or attempt == 99:
                        raise
                    await asyncio.sleep(0.05)
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute(f"PRAGMA synchronous = {'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
            version = await migrations.migrate(
                conn, migration_files if migration_files is not None else migrations.discover()
            )
        except BaseException:
            await conn.close()
            raise
        log.info("Opened database %s at schema version %d", path, version)
        return cls(conn)

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        await self._conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the queries inside the block in one write transaction (committed, or rolled back on error)."""
        if _in_transaction.get():
            yield  # already inside one: join it
            return
        async with self._lock:
            token = _in_transaction.set(True)
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                await self._conn.execute("COMMIT")
            finally:
                _in_transaction.reset(token)

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[aiosqlite.Connection]:
        """Yield the connection, waiting for any other task's transaction to finish first."""
        if _in_transaction.get():
            yield self._conn
        else:
            async with self._lock:
                yield self._conn

    # Each helper is one round trip to aiosqlite's worker thread (execute_fetchall runs and exhausts the
    # statement there), instead of separate trips for execute, fetch and close.

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._exclusive() as conn:
            return list(await conn.execute_fetchall(sql, tuple(params)))

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._exclusive() as conn:
            before = conn.total_changes
            await conn.execute_fetchall(sql, tuple(params))
            return conn.total_changes - before

    # --- meta: bot-wide key/value state ---

    async def get_meta(self, key: str) -> str | None:
        """Return the value stored under `key`, or None."""
        row = await self._fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any previous value."""
        await self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- P(Doom) polls ---

    async def open_round(
        self,
        *,
        guild_id: int,
        channel_id: int,
        question: str,
        doom_definition: str,
        horizon: str,
        show_results_early: bool,
        opened_by: int,
        now: datetime,
        closes_at: datetime | None,
    ) -> PollRound:
        """Open the server's next round; raise RoundAlreadyOpen if one is open."""
        async with self.transaction():
            if await self._fetchone("SELECT 1 FROM pdoom_rounds WHERE guild_id = ? AND closed_at IS NULL", (guild_id,)):
                raise RoundAlreadyOpen
            row = await self._fetchone(
                "INSERT INTO pdoom_rounds (guild_id, number, channel_id, question, doom_definition, horizon, "
                "show_results_early, opened_by, opened_at, closes_at) "
                "VALUES (?, (SELECT coalesce(max(number), 0) + 1 FROM pdoom_rounds WHERE guild_id = ?), "
                "?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    guild_id,
                    guild_id,
                    channel_id,
                    question,
                    doom_definition,
                    horizon,
                    int(show_results_early),
                    opened_by,
                    _iso(now),
                    _iso(closes_at),
                ),
            )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return _round(row)

    async def set_round_message(self, round_id: int, message_id: int) -> None:
        """Remember the poll message of a round."""
        await self._execute("UPDATE pdoom_rounds SET message_id = ? WHERE id = ?", (message_id, round_id))

    async def get_round(self, round_id: int) -> PollRound | None:
        """Return a round by id."""
        row = await self._fetchone("SELECT * FROM pdoom_rounds WHERE id = ?", (round_id,))
        return _round(row) if row else None

    async def get_round_by_number(self, guild_id: int, number: int) -> PollRound | None:
        """Return a server's round by its number."""
        row = await self._fetchone("SELECT * FROM pdoom_rounds WHERE guild_id = ? AND number = ?", (guild_id, number))
        return _round(row) if row else None

    async def latest_round(self, guild_id: int) -> PollRound | None:
        """Return the server's most recent round, open or closed."""
        row = await self._fetchone(
            "SELECT * FROM pdoom_rounds WHERE guild_id = ? ORDER BY number DESC LIMIT 1", (guild_id,)
        )
        return _round(row) if row else None

    async def open_round_for_guild(self, guild_id: int) -> PollRound | None:
        """Return the server's open round, if any."""
        row = await self._fetchone("SELECT * FROM pdoom_rounds WHERE guild_id = ? AND closed_at IS NULL", (guild_id,))
        return _round(row) if row else None

    async def rounds(self, guild_id: int) -> list[PollRound]:
        """Return all of a server's rounds, oldest first."""
        rows = await self._fetchall("SELECT * FROM pdoom_rounds WHERE guild_id = ? ORDER BY number", (guild_id,))
        return [_round(row) for row in rows]

    async def record_vote(
        self, *, round_id: int, user_id: int, value: float, raw: str, source: str, now: datetime
    ) -> None:
        """Store a submission and make it the member's current answer, atomically; raise RoundClosed if closed.

        One statement: the insert only happens while the round is open, and a trigger updates the current
        answer within the same statement, so it commits (or not) as a whole before we return.
        """
        row = await self._fetchone(
            "INSERT INTO pdoom_votes (round_id, user_id, value, raw, source, submitted_at) "
            "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS "
            "(SELECT 1 FROM pdoom_rounds WHERE id = ? AND closed_at IS NULL) RETURNING id",
            (round_id, user_id, value, raw, source, _iso(now), round_id),
        )
        if row is None:
            raise RoundClosed

    async def delete_round(self, round_id: int) -> None:
        """Delete a round and everything in it (used when its poll could not be posted)."""
        await self._execute("DELETE FROM pdoom_rounds WHERE id = ?", (round_id,))

    async def current_answers(self, round_id: int) -> dict[int, float]:
        """Return each member's current answer in a round."""
        rows = await self._fetchall("SELECT user_id, value FROM pdoom_current WHERE round_id = ?", (round_id,))
        return {int(row["user_id"]): float(row["value"]) for row in rows}

    async def respondent_count(self, round_id: int) -> int:
        """Return how many members have a current answer in a round."""
        row = await self._fetchone("SELECT count(*) FROM pdoom_current WHERE round_id = ?", (round_id,))
        return int(row[0]) if row else 0

    async def current_answer(self, round_id: int, user_id: int) -> float | None:
        """Return one member's current answer in a round, or None."""
        row = await self._fetchone(
            "SELECT value FROM pdoom_current WHERE round_id = ? AND user_id = ?", (round_id, user_id)
        )
        return float(row["value"]) if row else None

    async def close_round(self, round_id: int, now: datetime) -> bool:
        """Close a round; return False if it was already closed (so results are posted once)."""
        changed = await self._execute(
            "UPDATE pdoom_rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (_iso(now), round_id)
        )
        return changed == 1

    async def set_results_message(self, round_id: int, message_id: int) -> None:
        """Remember where a round's results were posted."""
        await self._execute("UPDATE pdoom_rounds SET results_message_id = ? WHERE id = ?", (message_id, round_id))

    async def set_poll_message_closed(self, round_id: int) -> None:
        """Remember that a closed round's poll message shows its closed state (the last step of a close)."""
        await self._execute("UPDATE pdoom_rounds SET poll_message_closed = 1 WHERE id = ?", (round_id,))

    async def rounds_due(self, now: datetime) -> list[PollRound]:
        """Return open rounds whose closing time has passed, and closed rounds with a step of their close undone."""
        rows = await self._fetchall(
            "SELECT * FROM pdoom_rounds WHERE (closed_at IS NULL AND closes_at <= ?) "
            "OR (closed_at IS NOT NULL AND (results_message_id IS NULL OR poll_message_closed = 0)) ORDER BY id",
            (_iso(now),),
        )
        return [_round(row) for row in rows]

    async def next_closing_time(self) -> datetime | None:
        """Return the earliest closing time of any open round."""
        row = await self._fetchone("SELECT min(closes_at) FROM pdoom_rounds WHERE closed_at IS NULL")
        return _datetime(row[0]) if row else None

    async def open_rounds(self) -> list[PollRound]:
        """Return every open round in every server."""
        return [_round(row) for row in await self._fetchall("SELECT * FROM pdoom_rounds WHERE closed_at IS NULL")]

    async def answers_by_round(self, guild_id: int) -> dict[int, dict[int, float]]:
        """Return {round id: {member: current answer}} for all of a server's rounds."""
        rows = await self._fetchall(
            "SELECT c.round_id, c.user_id, c.value FROM pdoom_current c "
            "JOIN pdoom_rounds r ON r.id = c.round_id WHERE r.guild_id = ?",
            (guild_id,),
        )
        answers: dict[int, dict[int, float]] = {}
        for row in rows:
            answers.setdefault(int(row["round_id"]), {})[int(row["user_id"])] = float(row["value"])
        return answers

    async def submissions(self, guild_id: int, user_id: int) -> list[Submission]:
        """Return every estimate a member submitted in a server, oldest first."""
        rows = await self._fetchall(
            "SELECT r.number, v.value, v.raw, v.submitted_at FROM pdoom_votes v "
            "JOIN pdoom_rounds r ON r.id = v.round_id WHERE r.guild_id = ? AND v.user_id = ? ORDER BY v.id",
            (guild_id, user_id),
        )
        return [
            Submission(int(row["number"]), float(row["value"]), str(row["raw"]), _required(row["submitted_at"]))
            for row in rows
        ]

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete every estimate a member gave in a server; return how many submissions were deleted."""
        async with self.transaction():
            scope = "round_id IN (SELECT id FROM pdoom_rounds WHERE guild_id = ?) AND user_id = ?"
            await self._execute(f"DELETE FROM pdoom_current WHERE {scope}", (guild_id, user_id))  # noqa: S608
            return await self._execute(f"DELETE FROM pdoom_votes WHERE {scope}", (guild_id, user_id))  # noqa: S608

    async def pdoom_settings(self, guild_id: int) -> PollSettings:
        """Return a server's poll settings (the defaults if it never changed them)."""
        row = await self._fetchone("SELECT * FROM pdoom_settings WHERE guild_id = ?", (guild_id,))
        return _poll_settings(row) if row else PollSettings(guild_id)

    async def set_pdoom_min_respondents(self, guild_id: int, minimum: int) -> PollSettings:
        """Set how many respondents a round needs before its aggregates are shown; return the settings."""
        row = await self._fetchone(
            "INSERT INTO pdoom_settings (guild_id, min_respondents) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET min_respondents = excluded.min_respondents RETURNING *",
            (guild_id, minimum),
        )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return _poll_settings(row)

    # --- weekly prompts: the queue ---

    async def import_starter_prompts(self, guild_id: int, starters: Iterable[StarterPrompt], now: datetime) -> int:
        """Add the starter prompts a server doesn't have yet (never twice, even if since retired); return the count."""
        added = 0
        async with self.transaction():
            for starter in starters:
                added += await self._execute(
                    "INSERT INTO prompts (guild_id, title, text, concept_id, tags, starter_id, status, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'approved', ?) ON CONFLICT (guild_id, starter_id) DO NOTHING",
                    (
                        guild_id,
                        starter.title,
                        starter.text,
                        starter.concept,
                        ",".join(starter.tags),
                        starter.id,
                        _iso(now),
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
        row = await self._fetchone(
            "INSERT INTO prompts (guild_id, title, text, concept_id, tags, author_id, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (guild_id, title, text, concept_id, ",".join(tags), author_id, status, _iso(now)),
        )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return _prompt(row)

    async def get_prompt(self, guild_id: int, prompt_id: int) -> Prompt | None:
        """Return one of a server's prompts."""
        row = await self._fetchone("SELECT * FROM prompts WHERE guild_id = ? AND id = ?", (guild_id, prompt_id))
        return _prompt(row) if row else None

    async def review_prompt(
        self, guild_id: int, prompt_id: int, status: PromptStatus, reviewer_id: int
    ) -> Prompt | None:
        """Approve or reject a suggestion, only if it is still waiting (compare-and-set); None if it is not."""
        row = await self._fetchone(
            "UPDATE prompts SET status = ?, reviewed_by = ? WHERE guild_id = ? AND id = ? AND status = 'suggested' "
            "RETURNING *",
            (status, reviewer_id, guild_id, prompt_id),
        )
        return _prompt(row) if row else None

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
        row = await self._fetchone(
            "UPDATE prompts SET text = coalesce(?, text), title = coalesce(?, title), "
            "concept_id = coalesce(?, concept_id), tags = coalesce(?, tags), status = coalesce(?, status) "
            "WHERE guild_id = ? AND id = ? RETURNING *",
            (text, title, concept_id, ",".join(tags) if tags is not None else None, status, guild_id, prompt_id),
        )
        return _prompt(row) if row else None

    async def list_prompts(
        self, guild_id: int, status: PromptStatus | None, *, offset: int = 0, limit: int = 10
    ) -> list[Prompt]:
        """Return a page of a server's prompts, oldest first, optionally of one status."""
        rows = await self._fetchall(
            "SELECT * FROM prompts WHERE guild_id = ? AND (? IS NULL OR status = ?) "
            "ORDER BY created_at, id LIMIT ? OFFSET ?",
            (guild_id, status, status, limit, offset),
        )
        return [_prompt(row) for row in rows]

    async def count_prompts(self, guild_id: int, status: PromptStatus | None = None) -> int:
        """Count a server's prompts, optionally of one status."""
        row = await self._fetchone(
            "SELECT count(*) FROM prompts WHERE guild_id = ? AND (? IS NULL OR status = ?)", (guild_id, status, status)
        )
        return int(row[0]) if row else 0

    async def last_posted_prompt(self, guild_id: int) -> Prompt | None:
        """Return the prompt most recently posted in a server."""
        row = await self._fetchone(
            "SELECT p.* FROM prompt_posts pp JOIN prompts p ON p.id = pp.prompt_id "
            "WHERE pp.guild_id = ? AND pp.status = 'posted' ORDER BY pp.id DESC LIMIT 1",
            (guild_id,),
        )
        return _prompt(row) if row else None

    # --- weekly prompts: schedules ---

    async def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace a server's schedule."""
        await self._execute(
            "INSERT OR REPLACE INTO prompt_schedules (guild_id, channel_id, weekday, local_time, timezone, "
            "ping_role_id, open_thread, mod_channel_id, paused, skip_next, grace_hours, next_due_at, "
            "next_local_date, last_outcome, absent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                schedule.guild_id,
                schedule.channel_id,
                schedule.weekday,
                schedule.local_time.strftime("%H:%M"),
                schedule.timezone,
                schedule.ping_role_id,
                int(schedule.open_thread),
                schedule.mod_channel_id,
                int(schedule.paused),
                int(schedule.skip_next),
                schedule.grace_hours,
                _iso(schedule.next_due_at),
                schedule.next_local_date,
                schedule.last_outcome,
            ),
        )

    async def get_schedule(self, guild_id: int) -> Schedule | None:
        """Return a server's schedule."""
        row = await self._fetchone("SELECT * FROM prompt_schedules WHERE guild_id = ?", (guild_id,))
        return _schedule(row) if row else None

    async def next_schedule_due(self) -> datetime | None:
        """Return when the next active schedule is due or retries (one index lookup)."""
        row = await self._fetchone(
            "SELECT min(coalesce(retry_at, next_due_at)) FROM prompt_schedules WHERE paused = 0 AND absent = 0"
        )
        return _datetime(row[0]) if row else None

    async def due_schedules(self, now: datetime, limit: int = 500) -> list[Schedule]:
        """Return active schedules that are due (or due to retry), earliest first."""
        rows = await self._fetchall(
            "SELECT * FROM prompt_schedules WHERE paused = 0 AND absent = 0 AND coalesce(retry_at, next_due_at) <= ? "
            "ORDER BY coalesce(retry_at, next_due_at) LIMIT ?",
            (_iso(now), limit),
        )
        return [_schedule(row) for row in rows]

    async def advance_schedule(self, guild_id: int, from_date: str, occurrence: Occurrence, outcome: str) -> bool:
        """Move a schedule from the occurrence on `from_date` to the next, noting what happened.

        A compare-and-set: if an admin changed the schedule meanwhile (another next date), nothing is overwritten.
        Clears a one-off skip and any retry state. Returns whether the schedule moved.
        """
        changed = await self._execute(
            "UPDATE prompt_schedules SET next_due_at = ?, next_local_date = ?, skip_next = 0, last_outcome = ?, "
            "retry_at = NULL, attempts = 0, retry_reason = NULL WHERE guild_id = ? AND next_local_date = ?",
            (_iso(occurrence.due), occurrence.local_date.isoformat(), outcome, guild_id, from_date),
        )
        return changed == 1

    async def retry_schedule_later(self, guild_id: int, from_date: str, retry_at: datetime, reason: str) -> int:
        """Note a passing failure at the occurrence on `from_date` and when to try again; return the attempt count."""
        row = await self._fetchone(
            "UPDATE prompt_schedules SET retry_at = ?, attempts = attempts + 1, retry_reason = ?, last_outcome = ? "
            "WHERE guild_id = ? AND next_local_date = ? RETURNING attempts",
            (_iso(retry_at), reason, f"Retrying: {reason}", guild_id, from_date),
        )
        return int(row[0]) if row else 0

    async def schedule_presence(self) -> dict[int, bool]:
        """Return {guild id: whether the bot is marked absent} for every schedule."""
        rows = await self._fetchall("SELECT guild_id, absent FROM prompt_schedules")
        return {int(row["guild_id"]): bool(row["absent"]) for row in rows}

    async def set_schedule_absent(self, guild_id: int, upcoming: Occurrence | None) -> bool:
        """Mark a server's schedule absent (upcoming None: the bot left) or back, from `upcoming`; True if changed.

        Coming back starts from the next occurrence: weeks the bot was away are neither posted nor reported.
        """
        if upcoming is None:
            changed = await self._execute(
                "UPDATE prompt_schedules SET absent = 1, last_outcome = ? WHERE guild_id = ? AND absent = 0",
                ("Paused: the bot was removed from the server", guild_id),
            )
        else:
            changed = await self._execute(
                "UPDATE prompt_schedules SET absent = 0, next_due_at = ?, next_local_date = ?, retry_at = NULL, "
                "attempts = 0, retry_reason = NULL, last_outcome = ? WHERE guild_id = ? AND absent = 1",
                (
                    _iso(upcoming.due),
                    upcoming.local_date.isoformat(),
                    "Resumed: the bot was added back to the server",
                    guild_id,
                ),
            )
        return changed == 1

    async def update_schedule_state(
        self,
        guild_id: int,
        *,
        paused: bool | None = None,
        skip_next: bool | None = None,
        upcoming: Occurrence | None = None,
    ) -> Schedule | None:
        """Change only the given flags (and optionally the next occurrence); return the schedule, or None."""
        row = await self._fetchone(
            "UPDATE prompt_schedules SET paused = coalesce(?, paused), skip_next = coalesce(?, skip_next), "
            "next_due_at = coalesce(?, next_due_at), next_local_date = coalesce(?, next_local_date) "
            "WHERE guild_id = ? RETURNING *",
            (
                None if paused is None else int(paused),
                None if skip_next is None else int(skip_next),
                _iso(upcoming.due) if upcoming else None,
                upcoming.local_date.isoformat() if upcoming else None,
                guild_id,
            ),
        )
        return _schedule(row) if row else None

    async def set_schedule_outcome(self, guild_id: int, outcome: str) -> None:
        """Note the last thing that happened to a server's schedule."""
        await self._execute("UPDATE prompt_schedules SET last_outcome = ? WHERE guild_id = ?", (outcome, guild_id))

    # --- weekly prompts: posts ---

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
            async with self.transaction():
                taken = await self._execute(
                    "UPDATE prompts SET status = 'posted', posted_at = ? WHERE id = ? AND status = 'approved'",
                    (_iso(now), prompt_id),
                )
                row = await self._fetchone(
                    "INSERT INTO prompt_posts (guild_id, occurrence, prompt_id, channel_id, status, claimed_at, "
                    "wants_thread, deadline) SELECT ?, ?, ?, ?, 'claimed', ?, ?, ? WHERE ? "
                    "ON CONFLICT (guild_id, occurrence) DO NOTHING RETURNING *",
                    (guild_id, occurrence, prompt_id, channel_id, _iso(now), int(wants_thread), _iso(deadline), taken),
                )
                if row is None:
                    raise _RollBack
        except _RollBack:
            return None
        return _post(row)

    async def post_for_occurrence(self, guild_id: int, occurrence: str) -> PromptPost | None:
        """Return what was recorded for one of a server's occurrences (claimed, posted, failed, ...), if anything."""
        row = await self._fetchone(
            "SELECT * FROM prompt_posts WHERE guild_id = ? AND occurrence = ?", (guild_id, occurrence)
        )
        return _post(row) if row else None

    async def record_occurrence(
        self, *, guild_id: int, occurrence: str, channel_id: int, status: str, error: str | None, now: datetime
    ) -> bool:
        """Record a skipped, missed or failed occurrence (no prompt used); False if it was already recorded."""
        changed = await self._execute(
            "INSERT INTO prompt_posts (guild_id, occurrence, channel_id, status, claimed_at, completed_at, "
            "wants_thread, error) VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (guild_id, occurrence) DO NOTHING",
            (guild_id, occurrence, channel_id, status, _iso(now), _iso(now), error),
        )
        return changed == 1

    async def complete_post(self, post_id: int, message_id: int, now: datetime) -> None:
        """Mark a claimed post as posted, with its message."""
        await self._execute(
            "UPDATE prompt_posts SET status = 'posted', message_id = ?, completed_at = ? WHERE id = ?",
            (message_id, _iso(now), post_id),
        )

    async def fail_post(self, post_id: int, error: str, now: datetime) -> bool:
        """Mark a claimed post as failed and put its prompt back in the queue; False if it was not claimed."""
        async with self.transaction():
            changed = await self._execute(
                "UPDATE prompt_posts SET status = 'failed', error = ?, completed_at = ? "
                "WHERE id = ? AND status = 'claimed'",
                (error, _iso(now), post_id),
            )
            if changed:
                await self._execute(
                    "UPDATE prompts SET status = 'approved', posted_at = NULL "
                    "WHERE id = (SELECT prompt_id FROM prompt_posts WHERE id = ?)",
                    (post_id,),
                )
        return changed == 1

    async def set_post_thread(self, post_id: int, thread_id: int) -> None:
        """Remember the discussion thread of a post."""
        await self._execute("UPDATE prompt_posts SET thread_id = ? WHERE id = ?", (thread_id, post_id))

    async def give_up_thread(self, post_id: int, error: str) -> None:
        """Stop trying to open a thread for a post (e.g. the permission is missing), keeping the reason."""
        await self._execute(
            "UPDATE prompt_posts SET wants_thread = 0, thread_retry_at = NULL, error = ? WHERE id = ?", (error, post_id)
        )

    async def retry_thread_later(self, post_id: int, retry_at: datetime) -> int:
        """Note a failed attempt at a post's thread and when to try again; return the number of attempts."""
        row = await self._fetchone(
            "UPDATE prompt_posts SET thread_attempts = thread_attempts + 1, thread_retry_at = ? WHERE id = ? "
            "RETURNING thread_attempts",
            (_iso(retry_at), post_id),
        )
        return int(row[0]) if row else 0

    async def claimed_posts(self, now: datetime) -> list[PromptPost]:
        """Return posts claimed but never completed (the bot stopped, or Discord failed), unless waiting to retry."""
        rows = await self._fetchall(
            "SELECT pp.* FROM prompt_posts pp LEFT JOIN prompt_schedules s ON s.guild_id = pp.guild_id "
            "WHERE pp.status = 'claimed' AND (s.retry_at IS NULL OR s.retry_at <= ?) ORDER BY pp.id",
            (_iso(now),),
        )
        return [_post(row) for row in rows]

    async def posts_missing_thread(self, now: datetime) -> list[PromptPost]:
        """Return completed posts that should have a thread but don't yet, and are not waiting to retry."""
        rows = await self._fetchall(
            "SELECT * FROM prompt_posts WHERE status = 'posted' AND wants_thread = 1 AND thread_id IS NULL "
            "AND (thread_retry_at IS NULL OR thread_retry_at <= ?) ORDER BY id",
            (_iso(now),),
        )
        return [_post(row) for row in rows]

    async def next_thread_retry(self) -> datetime | None:
        """Return when the next thread retry is due."""
        row = await self._fetchone(
            "SELECT min(thread_retry_at) FROM prompt_posts "
            "WHERE status = 'posted' AND wants_thread = 1 AND thread_id IS NULL"
        )
        return _datetime(row[0]) if row else None

    async def recent_threads(self, since: datetime) -> dict[int, tuple[int, datetime]]:
        """Return {thread id: (post id, posted at)} for posts completed since `since`."""
        rows = await self._fetchall(
            "SELECT id, thread_id, completed_at FROM prompt_posts WHERE thread_id IS NOT NULL AND completed_at >= ?",
            (_iso(since),),
        )
        return {int(r["thread_id"]): (int(r["id"]), _required(r["completed_at"])) for r in rows}

    async def record_thread_message(self, post_id: int, user_id: int) -> None:
        """Count one message in a prompt's thread, and its author as a participant."""
        async with self.transaction():
            await self._execute("UPDATE prompt_posts SET messages = messages + 1 WHERE id = ?", (post_id,))
            await self._execute(
                "INSERT INTO prompt_thread_members (post_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (post_id, user_id),
            )

    async def post_stats(self, guild_id: int, limit: int = 10) -> list[PostStats]:
        """Return engagement for a server's most recent posts, newest first."""
        rows = await self._fetchall(
            "SELECT pp.*, (SELECT count(*) FROM prompt_thread_members m WHERE m.post_id = pp.id) AS participants "
            "FROM prompt_posts pp WHERE pp.guild_id = ? AND pp.status = 'posted' ORDER BY pp.id DESC LIMIT ?",
            (guild_id, limit),
        )
        stats = []
        for row in rows:
            prompt = await self.get_prompt(guild_id, int(row["prompt_id"])) if row["prompt_id"] else None
            stats.append(PostStats(_post(row), prompt, int(row["messages"]), int(row["participants"])))
        return stats


def _iso(moment: datetime | None) -> str | None:
    """Store datetimes as ISO 8601 text in UTC, which also sorts correctly."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _required(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _round(row: sqlite3.Row) -> PollRound:
    return PollRound(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        number=int(row["number"]),
        channel_id=int(row["channel_id"]),
        message_id=row["message_id"],
        question=str(row["question"]),
        doom_definition=str(row["doom_definition"]),
        horizon=str(row["horizon"]),
        show_results_early=bool(row["show_results_early"]),
        opened_by=int(row["opened_by"]),
        opened_at=_required(row["opened_at"]),
        closes_at=_datetime(row["closes_at"]),
        closed_at=_datetime(row["closed_at"]),
        results_message_id=row["results_message_id"],
        poll_message_closed=bool(row["poll_message_closed"]),
    )


def _poll_settings(row: sqlite3.Row) -> PollSettings:
    return PollSettings(guild_id=int(row["guild_id"]), min_respondents=int(row["min_respondents"]))


def _prompt(row: sqlite3.Row) -> Prompt:
    return Prompt(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        title=row["title"],
        text=str(row["text"]),
        concept_id=row["concept_id"],
        tags=tuple(t for t in str(row["tags"]).split(",") if t),
        author_id=row["author_id"],
        starter_id=row["starter_id"],
        status=row["status"],
        created_at=_required(row["created_at"]),
        posted_at=_datetime(row["posted_at"]),
        reviewed_by=row["reviewed_by"],
    )


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        weekday=int(row["weekday"]),
        local_time=time.fromisoformat(row["local_time"]),
        timezone=str(row["timezone"]),
        ping_role_id=row["ping_role_id"],
        open_thread=bool(row["open_thread"]),
        mod_channel_id=row["mod_channel_id"],
        paused=bool(row["paused"]),
        skip_next=bool(row["skip_next"]),
        grace_hours=int(row["grace_hours"]),
        next_due_at=_required(row["next_due_at"]),
        next_local_date=str(row["next_local_date"]),
        last_outcome=row["last_outcome"],
        retry_at=_datetime(row["retry_at"]),
        attempts=int(row["attempts"]),
        retry_reason=row["retry_reason"],
        absent=bool(row["absent"]),
    )


def _post(row: sqlite3.Row) -> PromptPost:
    return PromptPost(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        occurrence=str(row["occurrence"]),
        prompt_id=row["prompt_id"],
        channel_id=int(row["channel_id"]),
        status=str(row["status"]),
        claimed_at=_required(row["claimed_at"]),
        completed_at=_datetime(row["completed_at"]),
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        wants_thread=bool(row["wants_thread"]),
        error=row["error"],
        deadline=_datetime(row["deadline"]),
        thread_attempts=int(row["thread_attempts"]),
        thread_retry_at=_datetime(row["thread_retry_at"]),
    )
