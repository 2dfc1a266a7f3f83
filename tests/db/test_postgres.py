"""The PostgreSQL backend's own parts: placeholder translation, migrations, and the one-writer transactions.

The queries themselves are tested on both backends by the other files in tests/db (the `db` fixture).
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.db import Database, migrations
from bot.db.postgres import changed_rows, numbered_placeholders
from bot.domain.pdoom import RoundClosed

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_placeholders_are_numbered_in_order() -> None:
    """Each `?` becomes $1, $2, ... in order; quoted text, including a doubled quote, is copied as it is."""
    sql = "SELECT * FROM t WHERE a = ? AND b = 'it''s' AND c IN (?, ?) -- the end"
    assert numbered_placeholders(sql) == "SELECT * FROM t WHERE a = $1 AND b = 'it''s' AND c IN ($2, $3) -- the end"


@pytest.mark.parametrize("sql", ["SELECT '?'", 'SELECT "?" FROM t', "SELECT 1 -- why?\n"])
def test_a_question_mark_in_quotes_or_a_comment_is_refused(sql: str) -> None:
    """A '?' that is not a placeholder is refused instead of being translated into a wrong query."""
    with pytest.raises(ValueError, match="not a placeholder"):
        numbered_placeholders(sql)


@pytest.mark.parametrize(
    ("status", "count"), [("UPDATE 3", 3), ("INSERT 0 1", 1), ("DELETE 0", 0), ("CREATE TABLE", 0)]
)
def test_changed_rows_are_read_from_the_command_status(status: str, count: int) -> None:
    """The row count comes from PostgreSQL's command tag; a tag without one counts 0."""
    assert changed_rows(status) == count


async def versions_of(url: str) -> list[int]:
    """Return the versions recorded in the database's schema_version table."""
    conn = await asyncpg.connect(url)
    try:
        return [row["version"] for row in await conn.fetch("SELECT version FROM schema_version ORDER BY version")]
    finally:
        await conn.close()


async def tables_of(url: str) -> dict[str, list[str]]:
    """Return every table of the public schema with its columns, for before/after comparisons."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY table_name, ordinal_position"
        )
    finally:
        await conn.close()
    tables: dict[str, list[str]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append(row["column_name"])
    return tables


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    """Write migration files into `directory` and return it."""
    directory.mkdir()
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def test_every_migration_applies_once_and_reopening_changes_nothing(postgres_database: str) -> None:
    """A new database gets every migration, one schema_version row each; opening it again applies nothing."""
    files = migrations.discover(dialect="postgresql")
    assert [m.version for m in files] == [m.version for m in migrations.discover(dialect="sqlite")]
    await (await Database.open(postgres_database)).close()
    assert await versions_of(postgres_database) == [m.version for m in files]
    before = await tables_of(postgres_database)
    assert {"meta", "pdoom_rounds", "pdoom_votes", "pdoom_current", "prompts", "prompt_posts"} <= set(before)
    await (await Database.open(postgres_database)).close()
    assert await tables_of(postgres_database) == before
    assert await versions_of(postgres_database) == [m.version for m in files]


async def test_processes_starting_together_migrate_exactly_once(postgres_database: str) -> None:
    """Five pools opening one new database at the same moment all succeed, and each migration is applied once."""
    databases = await asyncio.gather(*(Database.open(postgres_database, pool_size=2) for _ in range(5)))
    for database in databases:
        await database.close()
    assert await versions_of(postgres_database) == [m.version for m in migrations.discover(dialect="postgresql")]


async def test_a_failing_migration_rolls_back_completely(postgres_database: str, tmp_path: Path) -> None:
    """A migration that fails halfway leaves the tables and the version exactly as they were before it."""
    directory = write_migrations(
        tmp_path / "migrations",
        {
            "0001_first.sql": "-- Reason: a first table.\nCREATE TABLE a (id BIGINT PRIMARY KEY);",
            "0002_broken.sql": (
                "-- Reason: half works, then fails.\n"
                "CREATE TABLE b (id BIGINT PRIMARY KEY);\n"
                "ALTER TABLE a ADD COLUMN note TEXT;\n"
                "INSERT INTO a (id) VALUES (1);\n"
                "CREATE TABLE c (oops NOT VALID SQL;\n"
            ),
        },
    )
    files = migrations.discover(directory)
    await (await Database.open(postgres_database, files[:1])).close()
    before = await tables_of(postgres_database)

    with pytest.raises(migrations.MigrationError, match=r"0002_broken\.sql failed and was rolled back"):
        await Database.open(postgres_database, files)

    assert await tables_of(postgres_database) == before
    assert await versions_of(postgres_database) == [1]


async def test_a_database_from_a_newer_bot_is_refused(postgres_database: str) -> None:
    """A database whose version is beyond the newest migration stops start-up, naming DATABASE_URL."""
    await (await Database.open(postgres_database)).close()
    conn = await asyncpg.connect(postgres_database)
    try:
        await conn.execute("INSERT INTO schema_version (version) VALUES (999)")
    finally:
        await conn.close()
    with pytest.raises(migrations.MigrationError, match=r"written by a newer version.*DATABASE_URL"):
        await Database.open(postgres_database)


async def test_migration_turns_the_message_id_zero_into_the_refused_state(postgres_database: str) -> None:
    """As on SQLite, upgrading moves results recorded as message id 0 to results_refused, with no message id."""
    before_6 = [m for m in migrations.discover(dialect="postgresql") if m.version < 6]
    await (await Database.open(postgres_database, before_6)).close()
    conn = await asyncpg.connect(postgres_database)
    try:
        for number, results_message_id in ((1, 0), (2, 555)):
            await conn.execute(
                "INSERT INTO pdoom_rounds (guild_id, number, channel_id, question, doom_definition, horizon, "
                "show_results_early, opened_by, opened_at, closed_at, results_message_id, poll_message_closed) "
                "VALUES (100, $1, 10, 'q', 'd', 'h', 0, 1, '2026-11-27T12:00:00+00:00', "
                "'2026-11-27T12:00:00+00:00', $2, 1)",
                number,
                results_message_id,
            )
    finally:
        await conn.close()
    async with await Database.open(postgres_database) as db:
        rounds = await db.polls.rounds(100)
    assert [(r.results_message_id, r.results_refused) for r in rounds] == [(None, True), (555, False)]


async def waiting_for_a_lock(conn: asyncpg.Connection) -> bool:
    """Return whether another session of this database waits for a row lock."""
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )


async def test_a_vote_racing_a_close_waits_for_it_and_is_refused(postgres_database: str) -> None:
    """A vote arriving while its round's close is being committed waits, then is refused (not counted after close).

    On SQLite the single writer orders them; on PostgreSQL the votes trigger locks the round row (FOR SHARE).
    """
    async with await Database.open(postgres_database) as db:
        poll = await db.polls.open_round(
            guild_id=1,
            channel_id=2,
            question="q",
            doom_definition="d",
            horizon="h",
            show_results_early=False,
            opened_by=3,
            now=NOW,
            closes_at=None,
        )
        closer = await asyncpg.connect(postgres_database)
        try:
            closing = closer.transaction()
            await closing.start()
            await closer.execute("UPDATE pdoom_rounds SET closed_at = $1 WHERE id = $2", NOW.isoformat(), poll.id)
            vote = asyncio.create_task(
                db.polls.record_vote(round_id=poll.id, user_id=7, value=0.5, raw="50", source="button", now=NOW)
            )
            deadline = asyncio.get_running_loop().time() + 5
            while not await waiting_for_a_lock(closer):
                assert not vote.done(), "the vote went in without waiting for the close"
                assert asyncio.get_running_loop().time() < deadline, "the vote never waited for the close"
                await asyncio.sleep(0.01)
            await closing.commit()
        finally:
            await closer.close()
        with pytest.raises(RoundClosed):
            await vote
        assert await db.polls.current_answers(poll.id) == {}
