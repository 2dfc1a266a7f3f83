"""The one database module: a single aiosqlite connection and one small typed method per query."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from bot import migrations
from bot.domain.pdoom import PollRound, RoundAlreadyOpen, RoundClosed, Submission

log = logging.getLogger(__name__)

# Set while the current task holds the write lock inside `transaction()`, so queries it runs don't wait on it.
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_transaction", default=False)


class Database:
    """The bot's SQLite database. Open it with `Database.open(path)`, which also migrates it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        # One connection is shared by every coroutine; the lock keeps a transaction's statements together.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, migration_files: list[migrations.Migration] | None = None) -> Self:
        """Connect (creating the file and its folder), enable WAL and foreign keys, and apply migrations."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit transactions.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("PRAGMA synchronous = NORMAL")
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

    async def rounds_due(self, now: datetime) -> list[PollRound]:
        """Return open rounds whose closing time has passed, and closed rounds whose results were never posted."""
        rows = await self._fetchall(
            "SELECT * FROM pdoom_rounds WHERE (closed_at IS NULL AND closes_at <= ?) "
            "OR (closed_at IS NOT NULL AND results_message_id IS NULL) ORDER BY id",
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
    )
