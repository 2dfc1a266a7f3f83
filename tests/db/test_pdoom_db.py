"""P(Doom) queries against a real SQLite file: rounds, votes, current answers, scoping, forgetting."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database
from bot.domain.pdoom import RoundAlreadyOpen, RoundClosed

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 100, 200


async def open_round(db: Database, guild_id: int = GUILD, closes_at: datetime | None = None):
    """Open a round with default texts."""
    return await db.open_round(
        guild_id=guild_id,
        channel_id=10,
        question="What is your P(doom)?",
        doom_definition="everyone dies",
        horizon="this century",
        show_results_early=False,
        opened_by=1,
        now=NOW,
        closes_at=closes_at,
    )


async def test_rounds_are_numbered_per_server_and_one_open_at_a_time(db: Database) -> None:
    """Each server numbers its rounds from 1, and a second open round in the same server is refused."""
    first = await open_round(db)
    other = await open_round(db, OTHER_GUILD)
    assert (first.number, other.number) == (1, 1)
    with pytest.raises(RoundAlreadyOpen):
        await open_round(db)
    assert await db.close_round(first.id, NOW)
    second = await open_round(db)
    assert second.number == 2
    assert (await db.get_round_by_number(GUILD, 2)) == second
    assert await db.get_round_by_number(OTHER_GUILD, 2) is None


async def test_answering_again_updates_and_keeps_every_submission(db: Database) -> None:
    """A member's current answer is their latest, while every submission stays in their history."""
    poll = await open_round(db)
    await db.record_vote(round_id=poll.id, user_id=7, value=0.1, raw="10%", source="button", now=NOW)
    await db.record_vote(
        round_id=poll.id, user_id=7, value=0.3, raw="30", source="typed", now=NOW + timedelta(minutes=1)
    )
    await db.record_vote(round_id=poll.id, user_id=8, value=0.02, raw="1 in 50", source="typed", now=NOW)
    assert await db.current_answers(poll.id) == {7: 0.3, 8: 0.02}
    assert await db.respondent_count(poll.id) == 2
    assert [s.raw for s in await db.submissions(GUILD, 7)] == ["10%", "30"]


async def test_simultaneous_clicks_leave_one_current_answer(db: Database) -> None:
    """Twenty concurrent votes from one member leave exactly one current answer and twenty submissions."""
    poll = await open_round(db)
    values = [0.01 * (i + 1) for i in range(20)]
    await asyncio.gather(
        *(db.record_vote(round_id=poll.id, user_id=7, value=v, raw=str(v), source="button", now=NOW) for v in values)
    )
    current = await db.current_answers(poll.id)
    assert list(current) == [7]
    assert current[7] in values
    assert len(await db.submissions(GUILD, 7)) == 20


async def test_closed_round_refuses_votes_and_closes_once(db: Database) -> None:
    """Closing succeeds once; afterwards votes are refused and nothing is stored."""
    poll = await open_round(db)
    assert await db.close_round(poll.id, NOW)
    assert not await db.close_round(poll.id, NOW)
    with pytest.raises(RoundClosed):
        await db.record_vote(round_id=poll.id, user_id=7, value=0.1, raw="10", source="button", now=NOW)
    assert await db.current_answers(poll.id) == {}
    assert await db.submissions(GUILD, 7) == []


async def test_rounds_due_are_overdue_or_missing_results(db: Database) -> None:
    """Due rounds are open past their closing time, or closed without posted results."""
    overdue = await open_round(db, GUILD, closes_at=NOW - timedelta(minutes=1))
    later = await open_round(db, OTHER_GUILD, closes_at=NOW + timedelta(hours=1))
    assert [r.id for r in await db.rounds_due(NOW)] == [overdue.id]
    assert await db.next_closing_time() == overdue.closes_at
    await db.close_round(overdue.id, NOW)
    assert [r.id for r in await db.rounds_due(NOW)] == [overdue.id]  # results not posted yet
    await db.set_results_message(overdue.id, 555)
    assert await db.rounds_due(NOW) == []
    assert await db.next_closing_time() == later.closes_at


async def test_forget_deletes_one_members_estimates_in_one_server(db: Database) -> None:
    """Forgetting removes a member's submissions and current answers in that server only."""
    here = await open_round(db)
    there = await open_round(db, OTHER_GUILD)
    for poll in (here, there):
        await db.record_vote(round_id=poll.id, user_id=7, value=0.2, raw="20", source="button", now=NOW)
        await db.record_vote(round_id=poll.id, user_id=8, value=0.4, raw="40", source="button", now=NOW)
    assert await db.forget_member(GUILD, 7) == 1
    assert await db.current_answers(here.id) == {8: 0.4}
    assert await db.current_answers(there.id) == {7: 0.2, 8: 0.4}
    assert await db.answers_by_round(GUILD) == {here.id: {8: 0.4}}


async def test_a_recorded_vote_is_committed_before_returning(db: Database, tmp_path: Path) -> None:
    """As soon as record_vote returns, another connection (another process after a crash) sees the vote."""
    poll = await open_round(db)
    await db.record_vote(round_id=poll.id, user_id=7, value=0.25, raw="25", source="button", now=NOW)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as other:
        assert other.execute("SELECT user_id, value FROM pdoom_current").fetchall() == [(7, 0.25)]
        assert other.execute("SELECT count(*) FROM pdoom_votes").fetchone() == (1,)
