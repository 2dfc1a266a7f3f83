"""The poll-message debouncer: one run per interval per round, and nothing remembered once a round is forgotten."""

import asyncio

from bot.exts.pdoom.rounds import Debouncer


async def test_marks_within_an_interval_run_once_and_a_forgotten_key_leaves_nothing() -> None:
    """Many marks of one key run the action once; forgetting the key drops its last-run time."""
    runs: list[int] = []
    done = asyncio.Event()

    async def action(key: int) -> None:
        runs.append(key)
        done.set()

    debouncer = Debouncer(0.0, action)
    for _ in range(10):
        debouncer.mark(7)
    await asyncio.wait_for(done.wait(), 1)
    assert runs == [7]
    assert 7 in debouncer._last_run
    debouncer.forget(7)
    assert debouncer._last_run == {}
    await debouncer.close()
