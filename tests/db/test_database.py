"""The Database class against each backend: a temporary SQLite file, and a new PostgreSQL database."""

import asyncio
from pathlib import Path

import pytest

from bot.db import Database


async def test_meta_round_trip(db: Database) -> None:
    """A value stored under a key reads back, and storing again replaces it."""
    assert await db.state.get_meta("missing") is None
    await db.state.set_meta("k", "one")
    await db.state.set_meta("k", "two")
    assert await db.state.get_meta("k") == "two"


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    """Every write inside a failed transaction is undone."""
    await db.state.set_meta("k", "before")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.state.set_meta("k", "during")
            await db.state.set_meta("other", "x")
            raise RuntimeError("boom")
    assert await db.state.get_meta("k") == "before"
    assert await db.state.get_meta("other") is None


async def test_concurrent_writes_wait_for_an_open_transaction(db: Database) -> None:
    """A write from another task does not slip into (or get rolled back with) someone else's transaction."""
    started = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction():
            await db.state.set_meta("tx", "1")
            started.set()
            await asyncio.sleep(0.01)
            raise RuntimeError("roll back")

    task = asyncio.create_task(failing_transaction())
    await started.wait()
    await db.state.set_meta("outside", "kept")
    with pytest.raises(RuntimeError):
        await task
    assert await db.state.get_meta("outside") == "kept"
    assert await db.state.get_meta("tx") is None


async def synchronous_of(database: Database) -> int:
    """Return the connection's PRAGMA synchronous (1 = NORMAL, 2 = FULL)."""
    rows = await database.fetchall("PRAGMA synchronous")
    return int(rows[0][0])


@pytest.mark.sqlite_only  # PRAGMA synchronous is SQLite's own
async def test_commits_are_synced_fully_by_default(db: Database, tmp_path: Path) -> None:
    """A new database runs with synchronous=FULL (2), and with NORMAL (1) only when asked."""
    assert await synchronous_of(db) == 2
    lowered = await Database.open(tmp_path / "normal.sqlite3", synchronous="NORMAL")
    try:
        assert await synchronous_of(lowered) == 1
    finally:
        await lowered.close()


async def test_database_size_grows_with_the_data(db: Database) -> None:
    """The size the status view shows is the database's real size on either backend, and grows as rows are added."""
    before = await db.state.database_size()
    assert before > 0
    for index in range(400):
        await db.state.set_meta(f"key-{index}", "x" * 500)
    assert await db.state.database_size() > before + 100_000
