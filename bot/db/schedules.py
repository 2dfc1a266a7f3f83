"""Weekly prompts: each server's schedule, its next occurrence and its retry state."""

from __future__ import annotations

from datetime import datetime

from bot.db.base import Storage
from bot.db.rows import from_row, parse_datetime, to_sql
from bot.db.shards import shard_condition
from bot.domain.prompts import Schedule
from bot.domain.schedule import Occurrence
from bot.domain.shards import EVERY_SHARD, ShardScope

# What an admin's /prompts-admin schedule sets (the key first); the retry and presence state is the scheduler's.
SAVED_COLUMNS = (
    "guild_id",
    "channel_id",
    "weekday",
    "local_time",
    "timezone",
    "ping_role_id",
    "open_thread",
    "mod_channel_id",
    "paused",
    "skip_next",
    "grace_hours",
    "next_due_at",
    "next_local_date",
    "last_outcome",
)


class ScheduleQueries:
    """Each server's prompt schedule."""

    def __init__(self, db: Storage) -> None:
        self._db = db

    async def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace a server's schedule; a replaced one starts afresh (no retry pending, present).

        An upsert rather than SQLite's INSERT OR REPLACE, so the statement is the same on PostgreSQL.
        """
        columns = SAVED_COLUMNS
        values = [to_sql(getattr(schedule, column)) for column in columns]
        fresh = {"retry_at": None, "attempts": 0, "retry_reason": None, "absent": 0}
        await self._db.execute(
            f"INSERT INTO prompt_schedules ({', '.join((*columns, *fresh))}) "  # noqa: S608 - fixed column names
            f"VALUES ({', '.join('?' * (len(columns) + len(fresh)))}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET "
            f"{', '.join(f'{c} = excluded.{c}' for c in (*columns[1:], *fresh))}",
            (*values, *fresh.values()),
        )

    async def get_schedule(self, guild_id: int) -> Schedule | None:
        """Return a server's schedule."""
        row = await self._db.fetchone("SELECT * FROM prompt_schedules WHERE guild_id = ?", (guild_id,))
        return from_row(Schedule, row) if row else None

    async def next_schedule_due(self, shards: ShardScope = EVERY_SHARD) -> datetime | None:
        """Return when the next active schedule (of a server of `shards`) is due or retries (one index lookup)."""
        in_shards, shard_params = shard_condition(shards)
        row = await self._db.fetchone(
            "SELECT min(coalesce(retry_at, next_due_at)) FROM prompt_schedules "  # noqa: S608 - numbers only
            f"WHERE paused = 0 AND absent = 0 AND {in_shards}",
            shard_params,
        )
        return parse_datetime(row[0]) if row else None

    async def due_schedules(self, now: datetime, limit: int = 500, shards: ShardScope = EVERY_SHARD) -> list[Schedule]:
        """Return active schedules (of servers of `shards`) that are due (or due to retry), earliest first."""
        in_shards, shard_params = shard_condition(shards)
        rows = await self._db.fetchall(
            "SELECT * FROM prompt_schedules WHERE paused = 0 AND absent = 0 AND coalesce(retry_at, next_due_at) <= ? "  # noqa: S608 - numbers only
            f"AND {in_shards} ORDER BY coalesce(retry_at, next_due_at) LIMIT ?",
            (to_sql(now), *shard_params, limit),
        )
        return [from_row(Schedule, row) for row in rows]

    async def advance_schedule(self, guild_id: int, from_date: str, occurrence: Occurrence, outcome: str) -> bool:
        """Move a schedule from the occurrence on `from_date` to the next, noting what happened.

        A compare-and-set: if an admin changed the schedule meanwhile (another next date), nothing is overwritten.
        Clears a one-off skip and any retry state. Returns whether the schedule moved.
        """
        changed = await self._db.execute(
            "UPDATE prompt_schedules SET next_due_at = ?, next_local_date = ?, skip_next = 0, last_outcome = ?, "
            "retry_at = NULL, attempts = 0, retry_reason = NULL WHERE guild_id = ? AND next_local_date = ?",
            (to_sql(occurrence.due), occurrence.local_date.isoformat(), outcome, guild_id, from_date),
        )
        return changed == 1

    async def retry_schedule_later(self, guild_id: int, from_date: str, retry_at: datetime, reason: str) -> int:
        """Note a passing failure at the occurrence on `from_date` and when to try again; return the attempt count."""
        row = await self._db.fetchone(
            "UPDATE prompt_schedules SET retry_at = ?, attempts = attempts + 1, retry_reason = ?, last_outcome = ? "
            "WHERE guild_id = ? AND next_local_date = ? RETURNING attempts",
            (to_sql(retry_at), reason, f"Retrying: {reason}", guild_id, from_date),
        )
        return int(row[0]) if row else 0

    async def retry_now(self, guild_id: int, now: datetime) -> bool:
        """Bring a server's pending retry forward to `now` (what it waited for is back); True if one was pending."""
        changed = await self._db.execute(
            "UPDATE prompt_schedules SET retry_at = ? WHERE guild_id = ? AND retry_at > ?",
            (to_sql(now), guild_id, to_sql(now)),
        )
        return changed == 1

    async def schedule_presence(self) -> dict[int, bool]:
        """Return {guild id: whether the bot is marked absent} for every schedule."""
        rows = await self._db.fetchall("SELECT guild_id, absent FROM prompt_schedules")
        return {int(row["guild_id"]): bool(row["absent"]) for row in rows}

    async def set_schedule_absent(self, guild_id: int, upcoming: Occurrence | None) -> bool:
        """Mark a server's schedule absent (upcoming None: the bot left) or back, from `upcoming`; True if changed.

        Coming back starts from the next occurrence: weeks the bot was away are neither posted nor reported.
        """
        if upcoming is None:
            changed = await self._db.execute(
                "UPDATE prompt_schedules SET absent = 1, last_outcome = ? WHERE guild_id = ? AND absent = 0",
                ("Paused: the bot was removed from the server", guild_id),
            )
        else:
            changed = await self._db.execute(
                "UPDATE prompt_schedules SET absent = 0, next_due_at = ?, next_local_date = ?, retry_at = NULL, "
                "attempts = 0, retry_reason = NULL, last_outcome = ? WHERE guild_id = ? AND absent = 1",
                (
                    to_sql(upcoming.due),
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
        row = await self._db.fetchone(
            "UPDATE prompt_schedules SET paused = coalesce(?, paused), skip_next = coalesce(?, skip_next), "
            "next_due_at = coalesce(?, next_due_at), next_local_date = coalesce(?, next_local_date) "
            "WHERE guild_id = ? RETURNING *",
            (
                None if paused is None else int(paused),
                None if skip_next is None else int(skip_next),
                to_sql(upcoming.due) if upcoming else None,
                upcoming.local_date.isoformat() if upcoming else None,
                guild_id,
            ),
        )
        return from_row(Schedule, row) if row else None

    async def set_schedule_outcome(self, guild_id: int, outcome: str) -> None:
        """Note the last thing that happened to a server's schedule."""
        await self._db.execute("UPDATE prompt_schedules SET last_outcome = ? WHERE guild_id = ?", (outcome, guild_id))
