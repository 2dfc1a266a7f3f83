"""Garbage-collector housekeeping once start-up is over."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.memory import settle_after_start


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test process's objects back to the collector afterwards."""
    yield
    gc.unfreeze()


def test_settling_frees_start_up_garbage_and_freezes_the_survivors(unfrozen: None) -> None:
    """Garbage cycles are collected rather than frozen for ever; what is alive is frozen."""

    class Node:
        def __init__(self) -> None:
            self.me = self

    survivor = Node()
    garbage = Node()
    freed: list[str] = []
    gc.disable()  # only settle_after_start may collect the cycle
    try:
        weakref.finalize(garbage, freed.append, "garbage")
        del garbage
        settle_after_start()
    finally:
        gc.enable()
    assert freed == ["garbage"]
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for generation in (0, 1, 2) for obj in gc.get_objects(generation))
