"""Per-shard leases on PostgreSQL (bot/db/leases.py): which shard sets conflict, and when a lease is freed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg
import pytest

from bot.db.leases import LEASE_APPLICATION_NAME, LeaseRefused, ShardLease, refusal
from bot.domain.shards import EVERY_SHARD, ShardScope

REDACTED = "postgresql://postgres:***@db/bot"

Take = Callable[..., Coroutine[Any, Any, ShardLease]]


def shards(*ids: int, count: int = 4) -> ShardScope:
    """Return the scope of a process running shards `ids` out of `count`."""
    return ShardScope(count, frozenset(ids))


@pytest.fixture
async def take(postgres_database: str) -> AsyncIterator[Take]:
    """Return a function that takes a lease on the test's database (not waiting by default); all closed after."""
    leases: list[ShardLease] = []

    async def take_lease(scope: ShardScope, wait: float = 0) -> ShardLease:
        lease = await ShardLease.take(postgres_database, scope, redacted_url=REDACTED, wait=wait)
        leases.append(lease)
        return lease

    yield take_lease
    for lease in leases:
        await lease.close()


async def terminate_lease_connections(url: str) -> int:
    """Kill the server side of every lease connection to `url`'s database, as a crash or restart would; count them."""
    admin = await asyncpg.connect(url)
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                LEASE_APPLICATION_NAME,
            )
        )
    finally:
        await admin.close()


async def test_a_held_shard_is_refused_until_its_holder_closes(take: Take) -> None:
    """A second holder of shard 1 is refused with the sentence while the first holds it, and gets it after."""
    first = await take(shards(1))
    with pytest.raises(LeaseRefused) as refused:
        await take(shards(1))
    assert str(refused.value) == (
        f"Shard 1 is held by another bot process on this database (DATABASE_URL={REDACTED}); stop it first, "
        "or give this one other SHARD_IDS."
    )
    await first.close()
    second = await take(shards(1))
    assert second.scope == shards(1)


async def test_a_terminated_holder_frees_its_shards_at_once(take: Take, postgres_database: str) -> None:
    """When the holder's connection is killed, the shard is free for the next process and the holder knows."""
    first = await take(shards(1))
    stop = asyncio.Event()
    first.stop_when_lost(stop)
    assert await terminate_lease_connections(postgres_database) == 1
    await asyncio.wait_for(stop.wait(), 5)
    assert first.lost.is_set()
    await take(shards(1))


async def test_a_clean_close_is_not_a_lost_lease(take: Take) -> None:
    """Closing the lease on shutdown releases it without stopping anything as if the connection had dropped."""
    lease = await take(shards(0))
    stop = asyncio.Event()
    lease.stop_when_lost(stop)
    await lease.close()
    await lease.close()  # safe twice
    assert not lease.lost.is_set() and not stop.is_set()


async def test_a_waiting_process_takes_over_when_the_holder_stops(take: Take) -> None:
    """With a wait, the second process gets the shards once the first lets go (a rolling deploy)."""
    first = await take(shards(0, 1))
    waiting = asyncio.create_task(take(shards(0, 1), wait=10))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # still waiting: the first holds the shards
    await first.close()
    second = await asyncio.wait_for(waiting, 5)
    assert second.scope == shards(0, 1)


async def test_a_wait_that_runs_out_is_refused(take: Take) -> None:
    """A holder that does not let go within the wait leaves the second refused."""
    await take(shards(2))
    with pytest.raises(LeaseRefused, match=r"^Shard 2 is held"):
        await take(shards(2), wait=0.2)


async def test_overlapping_shard_sets_conflict_and_disjoint_ones_do_not(take: Take) -> None:
    """Shards 0-1 and 2-3 run side by side; 1-2 then overlaps both and is refused, naming only the held ones."""
    await take(shards(0, 1))
    await take(shards(2, 3))
    with pytest.raises(LeaseRefused, match=r"^Shards 1-2 are held"):
        await take(shards(1, 2))


async def test_a_refused_process_keeps_none_of_the_shards_it_asked_for(take: Take) -> None:
    """All or nothing: a process refused shard 1 does not sit on shard 0, which another may take."""
    await take(shards(1))
    with pytest.raises(LeaseRefused):
        await take(shards(0, 1))
    await take(shards(0))


async def test_a_process_running_every_shard_conflicts_with_any_other(take: Take) -> None:
    """Unsharded conflicts with sharded, either way round, and with another unsharded process."""
    sharded = await take(shards(3))
    with pytest.raises(LeaseRefused, match=r"^Some of the shards this process would run"):
        await take(EVERY_SHARD)
    await sharded.close()

    await take(EVERY_SHARD)
    with pytest.raises(LeaseRefused, match=r"^Every shard is held"):
        await take(shards(0))
    with pytest.raises(LeaseRefused, match=r"^Some of the shards"):
        await take(EVERY_SHARD)


def test_the_refusals_name_the_shards_and_what_to_do() -> None:
    """Each refusal is one sentence naming the held shards, the redacted URL and the way out."""
    assert refusal(shards(0, 1, 3), [0, 1], REDACTED) == (
        f"Shards 0-1 are held by another bot process on this database (DATABASE_URL={REDACTED}); stop it first, "
        "or give this one other SHARD_IDS."
    )
    assert refusal(EVERY_SHARD, [-1], REDACTED).endswith(
        "stop it first, or set SHARD_COUNT and give each process its own SHARD_IDS."
    )
    assert refusal(shards(0), [-1], REDACTED).startswith(
        "Every shard is held by another bot process running all of them on this database"
    )


async def test_a_process_with_another_shard_count_is_refused(take: Take) -> None:
    """Shard 0 of 2 and shard 1 of 4 hold different keys but split the servers differently: the second is refused."""
    first = await take(shards(0, count=2))
    with pytest.raises(LeaseRefused) as refused:
        await take(shards(1, count=4))
    assert str(refused.value) == (
        f"Another bot process runs with SHARD_COUNT=2 on this database (DATABASE_URL={REDACTED}), and this one "
        "SHARD_COUNT=4; every process must use the same SHARD_COUNT: stop the others first, or set this one's to match."
    )
    await take(shards(1, count=2))  # the same count is welcome
    await first.close()


async def test_a_process_with_another_shard_count_waits_for_the_old_ones_to_stop(take: Take) -> None:
    """Re-sharding in a rolling deploy: the new count is taken once the last process with the old one stops."""
    old = await take(shards(0, 1, count=2))
    waiting = asyncio.create_task(take(shards(0, 1, 2, 3, count=8), wait=30))
    await asyncio.sleep(0.6)  # more than one retry interval: still waiting
    assert not waiting.done()
    await old.close()
    lease = await asyncio.wait_for(waiting, 10)
    assert lease.scope.count == 8
