"""The SQL condition that keeps a query to the servers of this process's shards (bot/domain/shards.py)."""

from __future__ import annotations

from bot.domain.shards import ShardScope


def shard_condition(scope: ShardScope, column: str = "guild_id") -> tuple[str, tuple[int, ...]]:
    """Return a WHERE condition on a server-id column, and its parameters, true for the servers `scope` owns.

    The same arithmetic as Discord's rule (`(guild_id >> 22) % shard_count`), which SQLite and PostgreSQL share.
    `column` is always a literal from the query modules, never user input.
    """
    if scope.ids is None:
        return "1 = 1", ()
    marks = ", ".join("?" for _ in scope.ids)
    return f"(({column} >> 22) % ?) IN ({marks})", (scope.count, *sorted(scope.ids))
