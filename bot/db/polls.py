"""P(Doom) rounds, votes and per-server poll settings."""

from __future__ import annotations

from datetime import datetime

from bot.db.base import Storage
from bot.db.rows import from_row, parse_datetime, to_sql
from bot.db.shards import shard_condition
from bot.domain.pdoom import PollRound, PollSettings, RoundAlreadyOpen, RoundClosed, Submission
from bot.domain.shards import EVERY_SHARD, ShardScope


class PollQueries:
    """P(Doom) rounds, votes and settings."""

    def __init__(self, db: Storage) -> None:
        self._db = db

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
        async with self._db.transaction():
            if await self._db.fetchone(
                "SELECT 1 FROM pdoom_rounds WHERE guild_id = ? AND closed_at IS NULL", (guild_id,)
            ):
                raise RoundAlreadyOpen
            row = await self._db.fetchone(
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
                    show_results_early,
                    opened_by,
                    to_sql(now),
                    to_sql(closes_at),
                ),
            )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return from_row(PollRound, row)

    async def set_round_message(self, round_id: int, message_id: int) -> None:
        """Remember the poll message of a round."""
        await self._db.execute("UPDATE pdoom_rounds SET message_id = ? WHERE id = ?", (message_id, round_id))

    async def get_round(self, round_id: int) -> PollRound | None:
        """Return a round by id."""
        row = await self._db.fetchone("SELECT * FROM pdoom_rounds WHERE id = ?", (round_id,))
        return from_row(PollRound, row) if row else None

    async def get_round_by_number(self, guild_id: int, number: int) -> PollRound | None:
        """Return a server's round by its number."""
        row = await self._db.fetchone(
            "SELECT * FROM pdoom_rounds WHERE guild_id = ? AND number = ?", (guild_id, number)
        )
        return from_row(PollRound, row) if row else None

    async def latest_round(self, guild_id: int) -> PollRound | None:
        """Return the server's most recent round, open or closed."""
        row = await self._db.fetchone(
            "SELECT * FROM pdoom_rounds WHERE guild_id = ? ORDER BY number DESC LIMIT 1", (guild_id,)
        )
        return from_row(PollRound, row) if row else None

    async def open_round_for_guild(self, guild_id: int) -> PollRound | None:
        """Return the server's open round, if any."""
        row = await self._db.fetchone(
            "SELECT * FROM pdoom_rounds WHERE guild_id = ? AND closed_at IS NULL", (guild_id,)
        )
        return from_row(PollRound, row) if row else None

    async def rounds(self, guild_id: int) -> list[PollRound]:
        """Return all of a server's rounds, oldest first."""
        rows = await self._db.fetchall("SELECT * FROM pdoom_rounds WHERE guild_id = ? ORDER BY number", (guild_id,))
        return [from_row(PollRound, row) for row in rows]

    async def record_vote(
        self, *, round_id: int, user_id: int, value: float, raw: str, source: str, now: datetime
    ) -> None:
        """Store a submission and make it the member's current answer, atomically; raise RoundClosed if closed.

        One statement: the insert only happens while the round is open, and a trigger updates the current
        answer within the same statement, so it commits (or not) as a whole before we return.
        """
        row = await self._db.fetchone(
            "INSERT INTO pdoom_votes (round_id, user_id, value, raw, source, submitted_at) "
            "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS "
            "(SELECT 1 FROM pdoom_rounds WHERE id = ? AND closed_at IS NULL) RETURNING id",
            (round_id, user_id, value, raw, source, to_sql(now), round_id),
        )
        if row is None:
            raise RoundClosed

    async def delete_round(self, round_id: int) -> None:
        """Delete a round and everything in it (used when its poll could not be posted)."""
        await self._db.execute("DELETE FROM pdoom_rounds WHERE id = ?", (round_id,))

    async def current_answers(self, round_id: int) -> dict[int, float]:
        """Return each member's current answer in a round."""
        rows = await self._db.fetchall("SELECT user_id, value FROM pdoom_current WHERE round_id = ?", (round_id,))
        return {int(row["user_id"]): float(row["value"]) for row in rows}

    async def respondent_count(self, round_id: int) -> int:
        """Return how many members have a current answer in a round."""
        row = await self._db.fetchone("SELECT count(*) FROM pdoom_current WHERE round_id = ?", (round_id,))
        return int(row[0]) if row else 0

    async def current_answer(self, round_id: int, user_id: int) -> float | None:
        """Return one member's current answer in a round, or None."""
        row = await self._db.fetchone(
            "SELECT value FROM pdoom_current WHERE round_id = ? AND user_id = ?", (round_id, user_id)
        )
        return float(row["value"]) if row else None

    async def close_round(self, round_id: int, now: datetime) -> PollRound | None:
        """Close a round and return it as closed; None if it was already closed or is gone (so it closes once)."""
        row = await self._db.fetchone(
            "UPDATE pdoom_rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL RETURNING *",
            (to_sql(now), round_id),
        )
        return from_row(PollRound, row) if row else None

    async def set_results_message(self, round_id: int, message_id: int) -> None:
        """Remember where a round's results were posted."""
        await self._db.execute("UPDATE pdoom_rounds SET results_message_id = ? WHERE id = ?", (message_id, round_id))

    async def set_results_refused(self, round_id: int) -> None:
        """Remember that Discord refused a round's results post for good, so it is never tried again."""
        await self._db.execute("UPDATE pdoom_rounds SET results_refused = 1 WHERE id = ?", (round_id,))

    async def set_poll_message_closed(self, round_id: int) -> None:
        """Remember that a closed round's poll message shows its closed state (the last step of a close)."""
        await self._db.execute("UPDATE pdoom_rounds SET poll_message_closed = 1 WHERE id = ?", (round_id,))

    async def rounds_due(self, now: datetime, shards: ShardScope = EVERY_SHARD) -> list[PollRound]:
        """Return open rounds whose closing time has passed, and closed rounds with a step of their close undone.

        Only in the servers of `shards` (every server by default).
        """
        in_shards, shard_params = shard_condition(shards)
        rows = await self._db.fetchall(
            "SELECT * FROM pdoom_rounds WHERE ((closed_at IS NULL AND closes_at <= ?) "  # noqa: S608 - numbers only
            "OR (closed_at IS NOT NULL AND ((results_message_id IS NULL AND results_refused = 0) "
            f"OR poll_message_closed = 0))) AND {in_shards} ORDER BY id",
            (to_sql(now), *shard_params),
        )
        return [from_row(PollRound, row) for row in rows]

    async def next_closing_time(self, shards: ShardScope = EVERY_SHARD) -> datetime | None:
        """Return the earliest closing time of any open round in the servers of `shards`."""
        in_shards, shard_params = shard_condition(shards)
        row = await self._db.fetchone(
            f"SELECT min(closes_at) FROM pdoom_rounds WHERE closed_at IS NULL AND {in_shards}",  # noqa: S608 - numbers only
            shard_params,
        )
        return parse_datetime(row[0]) if row else None

    async def open_rounds(self) -> list[PollRound]:
        """Return every open round in every server."""
        return [
            from_row(PollRound, row)
            for row in await self._db.fetchall("SELECT * FROM pdoom_rounds WHERE closed_at IS NULL")
        ]

    async def answers_by_round(self, guild_id: int) -> dict[int, dict[int, float]]:
        """Return {round id: {member: current answer}} for all of a server's rounds."""
        rows = await self._db.fetchall(
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
        rows = await self._db.fetchall(
            "SELECT r.number AS round_number, v.value, v.raw, v.submitted_at FROM pdoom_votes v "
            "JOIN pdoom_rounds r ON r.id = v.round_id WHERE r.guild_id = ? AND v.user_id = ? ORDER BY v.id",
            (guild_id, user_id),
        )
        return [from_row(Submission, row) for row in rows]

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete every estimate a member gave in a server; return how many submissions were deleted."""
        async with self._db.transaction():
            scope = "round_id IN (SELECT id FROM pdoom_rounds WHERE guild_id = ?) AND user_id = ?"
            await self._db.execute(f"DELETE FROM pdoom_current WHERE {scope}", (guild_id, user_id))  # noqa: S608
            return await self._db.execute(f"DELETE FROM pdoom_votes WHERE {scope}", (guild_id, user_id))  # noqa: S608

    async def pdoom_settings(self, guild_id: int) -> PollSettings:
        """Return a server's poll settings (the defaults if it never changed them)."""
        row = await self._db.fetchone("SELECT * FROM pdoom_settings WHERE guild_id = ?", (guild_id,))
        return from_row(PollSettings, row) if row else PollSettings(guild_id)

    async def set_pdoom_min_respondents(self, guild_id: int, minimum: int) -> PollSettings:
        """Set how many respondents a round needs before its aggregates are shown; return the settings."""
        row = await self._db.fetchone(
            "INSERT INTO pdoom_settings (guild_id, min_respondents) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET min_respondents = excluded.min_respondents RETURNING *",
            (guild_id, minimum),
        )
        assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
        return from_row(PollSettings, row)
