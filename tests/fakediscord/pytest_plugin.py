"""Pytest fixtures for the fake.

Use from a conftest with ``from tests.fakediscord.pytest_plugin import fake  # noqa: F401`` (or list it in
the *root* conftest's ``pytest_plugins``). ``fake`` is a started :class:`FakeDiscord`
with no guilds; build the world, then connect a client with :func:`connected_client`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from .fake import FakeDiscord
from .harness import fast_http_retries, running_fake


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Provide a started FakeDiscord (default settings), stopped after the test."""
    async with running_fake() as started:
        yield started


@pytest.fixture
def fast_retries() -> Iterator[None]:
    """Shrink discord.py's 5xx retry back-off so 500/502 tests stay fast."""
    with fast_http_retries():
        yield
