"""The bot's storage: one connection, and each feature's queries in its own module.

`Database.open(path)` connects and migrates; `db.polls`, `db.prompts`, `db.schedules` and `db.state` hold one
small typed method per query, each returning the domain's dataclasses. SQL lives only in this package.
"""

from __future__ import annotations

import aiosqlite

from bot.db.connection import Connection
from bot.db.polls import PollQueries
from bot.db.prompts import PromptQueries
from bot.db.schedules import ScheduleQueries
from bot.db.state import StateQueries

__all__ = ["Database"]


class Database(Connection):
    """The connection, with each feature's queries."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self.state = StateQueries(self)
        self.polls = PollQueries(self)
        self.prompts = PromptQueries(self)
        self.schedules = ScheduleQueries(self)
