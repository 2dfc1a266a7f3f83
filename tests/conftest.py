"""Shared fixtures: a real, migrated database, on SQLite and (when TEST_DATABASE_URL is set) on PostgreSQL.

Every test that takes `db` runs once per backend (ids `sqlite` and `postgresql`); a test marked `sqlite_only`
(it looks at SQLite's file, PRAGMAs or errors) runs on SQLite alone.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.db import Database

# An admin URL of a PostgreSQL server: each test gets its own new database there, dropped afterwards.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
POSTGRES_SKIP_REASON = (
    "set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to run the PostgreSQL half (see README)"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.postgresql, pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIP_REASON)],
    ),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the `db` fixture on each backend, except SQLite-only ones."""
    if "db" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("db", BACKENDS[:1] if only_sqlite else BACKENDS, indirect=True)


def database_url(name: str) -> str:
    """Return TEST_DATABASE_URL pointed at the database `name` on the same server."""
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


async def create_database(name: str, template: str | None = None) -> str:
    """Create an empty database (or a copy of `template`) on the test server and return its URL."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        copy = f" TEMPLATE {template}" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{copy}")
    finally:
        await admin.close()
    return database_url(name)


async def drop_database(name: str) -> None:
    """Drop a test database, ending any connection a test left open to it first (WITH (FORCE))."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def new_database_name() -> str:
    """Return a database name no other run uses."""
    return f"test_{uuid.uuid4().hex[:16]}"


def run_in_own_loop(work: Callable[[], Coroutine[object, object, None]]) -> None:
    """Run `work()` to completion on a new event loop in another thread (the caller's loop may be running)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, work()).result()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """Return the name of a database migrated once per session, which each test's database is copied from.

    Copying a migrated template is faster than migrating every test's database. It is made on its own event loop
    (each test has its own), and no connection to it stays open, as CREATE DATABASE ... TEMPLATE requires.
    """
    name = new_database_name()

    async def migrate_template() -> None:
        await (await Database.open(await create_database(name))).close()

    run_in_own_loop(migrate_template)
    yield name
    run_in_own_loop(lambda: drop_database(name))


@pytest.fixture
async def postgres_database() -> AsyncIterator[str]:
    """Return the URL of a new, empty PostgreSQL database, dropped after the test."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    name = new_database_name()
    url = await create_database(name)
    yield url
    await drop_database(name)


@pytest.fixture
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Return a freshly migrated database (a temporary SQLite file, or a new PostgreSQL database), closed after."""
    if request.param == "sqlite":
        database = await Database.open(tmp_path / "bot.sqlite3")
        yield database
        await database.close()
        return
    name = new_database_name()
    database = await Database.open(await create_database(name, request.getfixturevalue("postgres_template")))
    try:
        yield database
    finally:
        await database.close()
        await drop_database(name)
