"""`db copy`: every row from one backend into the other, ids and all, in one transaction checked table by table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database, copy, is_postgres_url, migrations
from bot.db.connection import Connection
from bot.db.copy import CopyError, copy_database
from bot.db.tables import Dialect, read_tables
from bot.domain.content import StarterPrompt
from bot.domain.pdoom import PollRound
from bot.domain.prompts import Schedule
from bot.settings import DatabaseTarget
from tests.conftest import BACKENDS

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GUILD = 1_234_567_890_123_456_789  # a real Discord id: needs 64 bits
OTHER_GUILD = 987_654_321_098_765_432
TABLES_PARENTS_FIRST = [
    "meta",
    "pdoom_rounds",
    "pdoom_settings",
    "prompt_schedules",
    "prompts",
    "pdoom_votes",
    "prompt_posts",
    "pdoom_current",
    "prompt_thread_members",
]
STARTERS = [
    StarterPrompt(id="first", title="First", text="What should we ask first?", concept="king-midas", tags=("a", "b")),
    StarterPrompt(id="second", text="And then — what next? ✨", concept="goodharts-law", tags=("c",)),
]


def dialect_of(db: Database) -> Dialect:
    """Return which backend a database runs on."""
    return "sqlite" if isinstance(db.connection, Connection) else "postgresql"


async def scalar(db: Database, sql: str) -> Any:
    """Return the single value of a one-row query."""
    row = await db.fetchone(sql)
    assert row is not None
    return row[0]


def target_of(where: Path | str) -> DatabaseTarget:
    """Return the DatabaseTarget of a SQLite path or a PostgreSQL URL."""
    if is_postgres_url(where):
        return DatabaseTarget("postgresql", url=str(where))
    return DatabaseTarget("sqlite", path=Path(where))


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Return an empty target on each backend: a new SQLite file's path, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "target.sqlite3"
    url: str = request.getfixturevalue("postgres_database")
    return url


async def open_plain_round(db: Database, guild_id: int, channel_id: int, question: str) -> PollRound:
    """Open a round with placeholder wording and no closing time (for checks of ids and triggers after a copy)."""
    return await db.polls.open_round(
        guild_id=guild_id,
        channel_id=channel_id,
        question=question,
        doom_definition="d",
        horizon="h",
        show_results_early=False,
        opened_by=1,
        now=NOW,
        closes_at=None,
    )


async def fill(db: Database) -> None:
    """Write realistic data through the storage API, so that every table holds rows."""
    await db.state.set_meta("commands_hash", "3f2a")
    await db.state.set_meta("Zeta", "upper case sorts first as bytes")
    await db.state.set_meta("émoji", "🌍")
    closed = await db.polls.open_round(
        guild_id=GUILD,
        channel_id=GUILD + 1,
        question="P(doom)?",
        doom_definition="it's bad",
        horizon="2100",
        show_results_early=False,
        opened_by=42,
        now=NOW,
        closes_at=NOW + timedelta(days=7),
    )
    await db.polls.set_round_message(closed.id, GUILD + 2)
    for user, value in [(1, 0.1), (2, 0.30000000000000004), (3, 0.5), (1, 0.95), (2, 1e-9)]:  # 1 and 2 re-vote
        await db.polls.record_vote(
            round_id=closed.id, user_id=user, value=value, raw=f"{value}", source="typed", now=NOW
        )
    await db.polls.close_round(closed.id, NOW + timedelta(days=7))
    await db.polls.set_results_message(closed.id, GUILD + 3)
    await db.polls.set_poll_message_closed(closed.id)
    still_open = await db.polls.open_round(
        guild_id=GUILD,
        channel_id=GUILD + 1,
        question="Again?",
        doom_definition="still bad",
        horizon="2050",
        show_results_early=True,
        opened_by=42,
        now=NOW + timedelta(days=8),
        closes_at=None,
    )
    await db.polls.record_vote(round_id=still_open.id, user_id=7, value=0.25, raw="25%", source="button", now=NOW)
    await db.polls.set_pdoom_min_respondents(GUILD, 5)
    await db.prompts.import_starter_prompts(GUILD, STARTERS, NOW)
    own = await db.prompts.add_prompt(
        guild_id=OTHER_GUILD,
        text="A member's question",
        title=None,
        concept_id=None,
        tags=("x",),
        author_id=77,
        status="approved",
        now=NOW,
    )
    post = await db.prompts.claim_post(
        guild_id=OTHER_GUILD,
        occurrence="2026-11-27",
        prompt_id=own.id,
        channel_id=5,
        wants_thread=True,
        now=NOW,
        deadline=NOW + timedelta(hours=12),
    )
    assert post is not None
    await db.prompts.complete_post(post.id, 555, NOW)
    await db.prompts.set_post_thread(post.id, 556)
    for user in (8, 9, 8):
        await db.prompts.record_thread_message(post.id, user)
    await db.schedules.save_schedule(
        Schedule(
            guild_id=OTHER_GUILD,
            channel_id=5,
            weekday=4,
            local_time=time(19),
            timezone="Europe/London",
            ping_role_id=None,
            open_thread=True,
            mod_channel_id=6,
            paused=False,
            skip_next=False,
            grace_hours=12,
            next_due_at=NOW + timedelta(days=7),
            next_local_date="2026-12-04",
            last_outcome="posted",
        )
    )


async def dump(where: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table, in primary-key order, with the columns in one fixed order."""
    async with await Database.open(where) as db:
        dialect = dialect_of(db)
        rows = {}
        for table in await read_tables(db.fetchall, dialect):
            columns = sorted(table.columns)
            rows[table.name] = [tuple(row) for row in await db.fetchall(copy.select_sql(table, columns, dialect))]
        return rows


async def filled_source(tmp_path: Path) -> Path:
    """Return a SQLite file with data in every table."""
    source = tmp_path / "source.sqlite3"
    async with await Database.open(source) as db:
        await fill(db)
    return source


async def test_tables_are_read_from_the_schema_parents_first(db: Database) -> None:
    """The copy's table list comes from the catalog: every table the migrations create, each after its parents."""
    dialect = dialect_of(db)
    tables = await read_tables(db.fetchall, dialect)
    assert [table.name for table in tables] == TABLES_PARENTS_FIRST
    created = {
        line.split()[2]
        for migration in migrations.discover(dialect=dialect)
        for line in migration.sql.splitlines()
        if line.startswith("CREATE TABLE ")
    }
    assert created == set(TABLES_PARENTS_FIRST)
    by_name = {table.name: table for table in tables}
    assert by_name["pdoom_current"].primary_key == ("round_id", "user_id")
    assert by_name["pdoom_current"].parents == {"pdoom_rounds", "pdoom_votes"}
    assert by_name["pdoom_votes"].identity == ("id" if dialect == "postgresql" else None)


@pytest.mark.postgresql
async def test_sqlite_to_postgresql_to_sqlite_keeps_every_row(tmp_path: Path, postgres_database: str) -> None:
    """A round trip through PostgreSQL gives back identical rows in every table, votes of closed rounds included."""
    source = await filled_source(tmp_path)
    expected = await dump(source)
    assert all(expected[name] for name in TABLES_PARENTS_FIRST), "every table should hold rows"
    to_postgres = await copy_database(target_of(source), target_of(postgres_database))
    assert [(t.name, t.rows) for t in to_postgres] == [(name, len(expected[name])) for name in TABLES_PARENTS_FIRST]
    assert await dump(postgres_database) == expected
    back = tmp_path / "back.sqlite3"
    to_sqlite = await copy_database(target_of(postgres_database), target_of(back))
    assert await dump(back) == expected
    # Both directions computed the same checksums: the normalised text does not depend on the backend.
    assert [t.checksum for t in to_sqlite] == [t.checksum for t in to_postgres]


async def test_the_bot_keeps_working_on_the_copy(tmp_path: Path, target: Path | str) -> None:
    """On the copy, new rounds, votes, prompts and posts get ids after the copied ones, and the vote trigger works."""
    source = await filled_source(tmp_path)
    await copy_database(target_of(source), target_of(target))
    async with await Database.open(target) as db:
        copied = {
            table: await scalar(db, f"SELECT max(id) FROM {table}")  # noqa: S608 - fixed names
            for table in ("pdoom_rounds", "pdoom_votes", "prompts", "prompt_posts")
        }
        opened = await open_plain_round(db, OTHER_GUILD, 3, "New?")
        await db.polls.record_vote(round_id=opened.id, user_id=1, value=0.5, raw="50%", source="button", now=NOW)
        prompt = await db.prompts.add_prompt(
            guild_id=GUILD, text="New", title=None, concept_id=None, tags=(), author_id=1, status="approved", now=NOW
        )
        post = await db.prompts.claim_post(
            guild_id=GUILD,
            occurrence="2026-12-04",
            prompt_id=prompt.id,
            channel_id=5,
            wants_thread=False,
            now=NOW,
            deadline=NOW,
        )
        assert post is not None
        assert opened.id == copied["pdoom_rounds"] + 1
        assert await scalar(db, "SELECT max(id) FROM pdoom_votes") == copied["pdoom_votes"] + 1
        assert prompt.id == copied["prompts"] + 1
        assert post.id == copied["prompt_posts"] + 1
        assert await db.polls.current_answers(opened.id) == {1: 0.5}  # the trigger is back on


async def test_a_target_with_rows_is_refused_without_replace_and_replaced_with_it(
    tmp_path: Path, target: Path | str
) -> None:
    """Rows in the target stop the copy, unless --replace, which deletes them first: the target ends as the source."""
    source = await filled_source(tmp_path)
    async with await Database.open(target) as db:
        await db.state.set_meta("left", "over")
    with pytest.raises(CopyError, match=r"TARGET already holds rows \(in meta\); pass --replace"):
        await copy_database(target_of(source), target_of(target))
    assert (await dump(target))["meta"] == [("left", "over")]
    await copy_database(target_of(source), target_of(target), replace=True)
    assert await dump(target) == await dump(source)


async def test_a_checksum_mismatch_rolls_everything_back(
    tmp_path: Path, target: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table that differs after the copy (a value altered on the way in) undoes the whole copy, --replace too."""
    source = await filled_source(tmp_path)
    async with await Database.open(target) as db:
        await db.state.set_meta("kept", "yes")
        old = await open_plain_round(db, 5, 5, "q")
    before = await dump(target)
    real_insert = copy.insert_rows

    async def altering_insert(db: Database, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if table == "pdoom_votes":  # the driver or a trigger changed one value: the checksum must notice
            position = list(columns).index("raw")
            rows = [tuple("changed" if i == position else v for i, v in enumerate(rows[0])), *rows[1:]]
        await real_insert(db, table, columns, rows)

    monkeypatch.setattr(copy, "insert_rows", altering_insert)
    with pytest.raises(CopyError, match="Table pdoom_votes differs after the copy"):
        await copy_database(target_of(source), target_of(target), replace=True)
    assert await dump(target) == before
    async with await Database.open(target) as db:  # ids, sequences and triggers are as before the attempt
        await db.polls.record_vote(round_id=old.id, user_id=3, value=0.5, raw="50%", source="button", now=NOW)
        assert await db.polls.current_answers(old.id) == {3: 0.5}
        again = await open_plain_round(db, 6, 5, "q")
        assert again.id == old.id + 1


async def test_a_source_at_another_schema_version_is_refused(tmp_path: Path) -> None:
    """An older source is refused with what to do, before the target is even created; the source is not migrated."""
    source = tmp_path / "old.sqlite3"
    await (await Database.open(source, migrations.discover()[:3])).close()
    target = tmp_path / "target.sqlite3"
    with pytest.raises(CopyError, match=r"schema version 3 but this bot's is .*migrate the source first by starting"):
        await copy_database(target_of(source), target_of(target))
    assert not target.exists()
    async with await Database.open(source, migrations.discover()[:3]) as db:
        assert await scalar(db, "PRAGMA user_version") == 3


async def test_large_tables_report_their_progress(tmp_path: Path) -> None:
    """Tables bigger than a batch report each batch; small ones copy silently."""
    source = await filled_source(tmp_path)
    lines: list[str] = []
    await copy_database(target_of(source), target_of(tmp_path / "t.sqlite3"), progress=lines.append, batch_rows=3)
    assert "pdoom_votes: 3 / 6 rows" in lines and "pdoom_votes: 6 / 6 rows" in lines
    assert not any(line.startswith("pdoom_settings") for line in lines)
