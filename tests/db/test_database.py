"""The Database class against a real temporary SQLite file."""

import asyncio

import pytest

from bot.db import Database


async def test_meta_round_trip(db: Database) -> None:
    """A value stored under a key reads back, and storing again replaces it."""
    assert await db.get_meta("missing") is None
    await db.set_meta("k", "one")
    await db.set_meta("k", "two")
    assert await db.get_meta("k") == "two"


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    """Every write inside a failed transaction is undone."""
    await db.set_meta("k", "before")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.set_meta("k", "during")
            await db.set_meta("other", "x")
            raise RuntimeError("boom")
    assert await db.get_meta("k") == "before"
    assert await db.get_meta("other") is None


async def test_concurrent_writes_wait_for_an_open_transaction(db: Database) -> None:
    """A write from another task does not slip into (or get rolled back with) someone else's transaction."""
    started = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction():
            await db.set_meta("tx", "1")
            started.set()
            await asyncio.sleep(0.01)
            raise RuntimeError("roll back")

    task = asyncio.create_task(failing_transaction())
    await started.wait()
    await db.set_meta("outside", "kept")
    with pytest.raises(RuntimeError):
        await task
    assert await db.get_meta("outside") == "kept"
    assert await db.get_meta("tx") is None
