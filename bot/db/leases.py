"""Per-shard leases on PostgreSQL: only one bot process at a time runs a given shard of one database.

Two processes running the same shard would both answer its servers' commands and both do their background work.
Each process holds PostgreSQL session-level advisory locks on ONE dedicated connection for its whole life. When
the process dies, even by SIGKILL, its connection drops and the server frees the locks at once: no expiry timer,
no stale lease. (A transaction-pooling proxy such as PgBouncer in transaction mode would break session locks;
point DATABASE_URL at the server or at a session-mode pool.)

The keys use the two-int form `(LEASE_NAMESPACE, key)`, a key space apart from the one-bigint keys of migrations
and transactions (bot/db/postgres.py). Readers-writer style, so that an unsharded process conflicts with anyone:
- a process running SOME shards (SHARD_IDS set) takes `(namespace, shard id)` exclusively for each of them, and
  `(namespace, WHOLE_BOT)` SHARED: other sharded processes share it, so only overlapping shard sets conflict;
- a process running EVERY shard (SHARD_IDS unset, whatever SHARD_COUNT says) takes `(namespace, WHOLE_BOT)`
  EXCLUSIVELY, which conflicts with every other process, sharded or not.
Processes that disagree on SHARD_COUNT would split the servers differently (shard 0 of 2 and shard 2 of 4 share
servers but not keys), so a sharded process also holds `(LAYOUT_NAMESPACE, SHARD_COUNT)` shared, and refuses to run
while pg_locks shows another process holding that key with another count.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self

from bot.db.base import ClosedOnExit
from bot.domain.shards import ShardScope, describe_shard_ids
from bot.errors import StartupError

log = logging.getLogger(__name__)

# "alig" as a 32-bit number: the first key of every lease lock, naming this bot's locks among others on the server.
LEASE_NAMESPACE = 0x616C6967
# "layo": the first key of the lock a sharded process holds, shared, on its SHARD_COUNT (the second key).
LAYOUT_NAMESPACE = 0x6C61796F
# The second key meaning "every shard" (shard ids are never negative).
WHOLE_BOT = -1
# The lease connection's application_name, so an operator (or a test) can find it in pg_stat_activity.
LEASE_APPLICATION_NAME = "alignment-bot shard lease"
# How often a waiting process tries again: a lock freed by a crash is taken within this long.
RETRY_INTERVAL = 0.5

# Try every key at once; the rows say which were taken, so a refusal can name the shards another process holds.
_TRY_LOCKS = """
SELECT key, TRUE AS shared, pg_try_advisory_lock_shared($1, key) AS taken FROM unnest($2::int[]) AS key
UNION ALL
SELECT key, FALSE AS shared, pg_try_advisory_lock($1, key) AS taken FROM unnest($3::int[]) AS key
"""

# The shard counts other processes on this database run with (their layout locks), other than $2.
_OTHER_SHARD_COUNTS = """
SELECT DISTINCT objid::bigint AS shard_count FROM pg_locks
WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid AND objsubid = 2
  AND objid <> $2::bigint::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY shard_count
"""


class LeaseRefused(StartupError):
    """Another live process holds some of this process's shards, and did not let go in time."""


class LeaseLost(Exception):
    """The lease connection dropped while the bot ran, and the bot stopped (already logged, as critical)."""


def lease_keys(scope: ShardScope) -> tuple[list[int], list[int]]:
    """Return the keys to lock shared and those to lock exclusively for a process looking after `scope`."""
    if scope.ids is None:
        return [], [WHOLE_BOT]
    return [WHOLE_BOT], sorted(scope.ids)


def describe_scope(scope: ShardScope) -> str:
    """Name the shards a process runs, for logs: "shards 0-1", "shard 3" or "every shard"."""
    if scope.ids is None:
        return "every shard"
    plural = "s" if len(scope.ids) > 1 else ""
    return f"shard{plural} {describe_shard_ids(scope.ids)}"


def held_elsewhere(scope: ShardScope, refused: list[int]) -> tuple[str, str]:
    """Say which of our shards another process holds, given the keys that could not be taken; and what to do."""
    shards = frozenset(key for key in refused if key != WHOLE_BOT)
    if scope.ids is None:
        return (
            "Some of the shards this process would run (all of them) are held by another bot process",
            "set SHARD_COUNT and give each process its own SHARD_IDS",
        )
    if not shards:  # only the shared whole-bot key was refused: a process running every shard holds it
        return "Every shard is held by another bot process running all of them", "give that one SHARD_IDS too"
    verb = "are" if len(shards) > 1 else "is"
    held = describe_scope(ShardScope(scope.count, shards)).capitalize()
    return f"{held} {verb} held by another bot process", "give this one other SHARD_IDS"


def refusal(scope: ShardScope, refused: list[int], redacted_url: str) -> str:
    """Return the sentence a process that cannot take its lease stops with."""
    held, advice = held_elsewhere(scope, refused)
    return f"{held} on this database (DATABASE_URL={redacted_url}); stop it first, or {advice}."


class ShardLease(ClosedOnExit):
    """The advisory locks on this process's shards, held on one dedicated connection until `close()`."""

    def __init__(self, connection: Any, scope: ShardScope) -> None:
        self._connection = connection
        self.scope = scope
        # Set when the connection drops while held (database restart, pg_terminate_backend), not by close().
        self.lost = asyncio.Event()
        self._closing = False
        self._stop: asyncio.Event | None = None
        connection.add_termination_listener(self._on_terminated)

    @classmethod
    async def take(cls, url: str, scope: ShardScope, *, redacted_url: str, wait: float) -> Self:
        """Connect and lock `scope`'s shards, waiting up to `wait` seconds for another process to let go.

        Raises LeaseRefused with one sentence when they stay held. Connection errors are the caller's to name.
        """
        import asyncpg  # here: a SQLite-only bot never loads it

        connection = await asyncpg.connect(url, server_settings={"application_name": LEASE_APPLICATION_NAME})
        try:
            refused, counts = await _try_lease(connection, scope)
            if (refused or counts) and wait > 0:  # a rolling deploy: the old process is stopping, this one takes over
                held = held_elsewhere(scope, refused)[0] if refused else other_counts_held(counts)
                log.warning("%s on this database; waiting up to %g s for it to stop", held, wait)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + wait
                while (refused or counts) and loop.time() < deadline:
                    await asyncio.sleep(min(RETRY_INTERVAL, deadline - loop.time()))
                    refused, counts = await _try_lease(connection, scope)
            if refused:
                raise LeaseRefused(refusal(scope, refused, redacted_url))
            if counts:
                raise LeaseRefused(
                    f"{other_counts_held(counts)} on this database (DATABASE_URL={redacted_url}), and this one "
                    f"SHARD_COUNT={scope.count}; every process must use the same SHARD_COUNT: stop the others first, "
                    "or set this one's to match."
                )
        except BaseException:
            await connection.close()
            raise
        log.info("Took the lease on %s", describe_scope(scope))
        return cls(connection, scope)

    def stop_when_lost(self, stop: asyncio.Event) -> None:
        """Have `stop` set if the lease connection drops, as another process may then take these shards over.

        Say PostgreSQL restarted: the locks are gone, and a waiting process can start on these shards at once.
        Running on without the lease risks two processes answering the same servers, so the bot stops (exit code
        1, see LeaseLost) and is left to its supervisor to restart; it then waits for the lease like any process.
        """
        self._stop = stop
        if self.lost.is_set():  # it dropped before anyone was listening
            stop.set()

    def _on_terminated(self, _connection: Any) -> None:
        """Stop the bot if the connection dropped (asyncpg calls this when it ends, after our own close() too)."""
        if self._closing:
            return
        log.critical(
            "Lost the lease on %s: its connection to PostgreSQL dropped; stopping, as another process may take over",
            describe_scope(self.scope),
        )
        self.lost.set()
        if self._stop is not None:
            self._stop.set()

    async def close(self) -> None:
        """Release the locks by closing the connection; safe to call twice."""
        self._closing = True
        await self._connection.close()


def other_counts_held(counts: list[int]) -> str:
    """Say which other shard counts the processes already running use."""
    listed = " and ".join(f"SHARD_COUNT={count}" for count in counts)
    return f"Another bot process runs with {listed}"


async def _try_lease(connection: Any, scope: ShardScope) -> tuple[list[int], list[int]]:
    """Try to take the lease; return the keys another process holds, and the other shard counts in use.

    Keeps the locks only when both are empty.
    """
    refused = await _try_locks(connection, scope)
    if refused or scope.ids is None:  # a process running every shard conflicts with all others through its key
        return refused, []
    await connection.execute("SELECT pg_advisory_lock_shared($1, $2)", LAYOUT_NAMESPACE, scope.count)
    counts = [row["shard_count"] for row in await connection.fetch(_OTHER_SHARD_COUNTS, LAYOUT_NAMESPACE, scope.count)]
    if counts:
        await connection.execute("SELECT pg_advisory_unlock_all()")
    return refused, counts


async def _try_locks(connection: Any, scope: ShardScope) -> list[int]:
    """Try to take every lock of `scope`; return the keys another process holds (and then keep none of them)."""
    shared, exclusive = lease_keys(scope)
    rows = await connection.fetch(_TRY_LOCKS, LEASE_NAMESPACE, shared, exclusive)
    refused = sorted(row["key"] for row in rows if not row["taken"])
    if refused:
        # All or nothing: half a lease would block another waiting process while serving nobody.
        await connection.execute("SELECT pg_advisory_unlock_all()")
    return refused
