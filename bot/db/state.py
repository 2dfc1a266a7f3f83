"""Bot-wide key/value state (e.g. the hash of the last command sync), and the database's own size."""

from __future__ import annotations

from bot.db.base import Storage
from bot.db.connection import Connection


class StateQueries:
    """Bot-wide state."""

    def __init__(self, db: Storage) -> None:
        self._db = db

    async def get_meta(self, key: str) -> str | None:
        """Return the value stored under `key`, or None."""
        row = await self._db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any previous value."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def database_size(self) -> int:
        """Return the bytes the database takes: SQLite's pages (page count × size), or PostgreSQL's whole database."""
        if isinstance(self._db, Connection):
            sql = "SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()"
        else:
            sql = "SELECT pg_database_size(current_database()) AS size"
        row = await self._db.fetchone(sql)
        return int(row["size"]) if row is not None else 0
