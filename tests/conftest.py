"""Shared fixtures: a real, migrated SQLite database in a temporary file."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """Return a freshly migrated database in a temporary file, closed after the test."""
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()
