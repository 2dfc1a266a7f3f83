"""P(Doom) queries against each backend: rounds, votes, current answers, scoping, forgetting."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database, migrations
from bot.domain.pdoom import RoundAlreadyOpen, RoundClosed
from tests.db.errors import CHECK_FAILED, CONSTRAINT_ERRORS

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 100, 200


async def open_round(db: Database, guild_id: int = GUILD, closes_at: datetime | None = None):
    """Open a round with default texts."""
    return await db.polls.open_round(
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
    assert await db.polls.close_round(first.id, NOW)
    second = await open_round(db)
    assert second.number == 2
    assert (await db.polls.get_round_by_number(GUILD, 2)) == second
    assert await db.polls.get_round_by_number(OTHER_GUILD, 2) is None


async def test_rounds_opened_at_once_in_one_server_leave_one_open(db: Database) -> None:
    """Five admins opening a round at the same moment: one round opens, the others are told one is open."""
    results = await asyncio.gather(*(open_round(db) for _ in range(5)), return_exceptions=True)
    opened = [result for result in results if not isinstance(result, BaseException)]
    assert len(opened) == 1 and opened[0].number == 1
    assert all(isinstance(result, RoundAlreadyOpen) for result in results if result not in opened)
    assert [r.number for r in await db.polls.rounds(GUILD)] == [1]


async def test_answering_again_updates_and_keeps_every_submission(db: Database) -> None:
    """A member's current answer is their latest, while every submission stays in their history."""
    poll = await open_round(db)
    await db.polls.record_vote(round_id=poll.id, user_id=7, value=0.1, raw="10%", source="button", now=NOW)
    await db.polls.record_vote(
        round_id=poll.id, user_id=7, value=0.3, raw="30", source="typed", now=NOW + timedelta(minutes=1)
    )
    await db.polls.record_vote(round_id=poll.id, user_id=8, value=0.02, raw="1 in 50", source="typed", now=NOW)
    assert await db.polls.current_answers(poll.id) == {7: 0.3, 8: 0.02}
    assert await db.polls.respondent_count(poll.id) == 2
    assert [s.raw for s in await db.polls.submissions(GUILD, 7)] == ["10%", "30"]


async def test_simultaneous_clicks_leave_one_current_answer(db: Database) -> None:
    """Twenty concurrent votes from one member leave exactly one current answer and twenty submissions."""
    poll = await open_round(db)
    values = [0.01 * (i + 1) for i in range(20)]
    await asyncio.gather(
        *(
            db.polls.record_vote(round_id=poll.id, user_id=7, value=v, raw=str(v), source="button", now=NOW)
            for v in values
        )
    )
    current = await db.polls.current_answers(poll.id)
    assert list(current) == [7]
    assert current[7] in values
    assert len(await db.polls.submissions(GUILD, 7)) == 20


async def test_closed_round_refuses_votes_and_closes_once(db: Database) -> None:
    """Closing succeeds once and returns the round as closed; afterwards votes are refused and nothing is stored."""
    poll = await open_round(db)
    closed = await db.polls.close_round(poll.id, NOW)
    assert closed is not None and closed.id == poll.id and closed.closed_at == NOW and not closed.is_open
    assert closed == await db.polls.get_round(poll.id)
    assert await db.polls.close_round(poll.id, NOW) is None
    with pytest.raises(RoundClosed):
        await db.polls.record_vote(round_id=poll.id, user_id=7, value=0.1, raw="10", source="button", now=NOW)
    assert await db.polls.current_answers(poll.id) == {}
    assert await db.polls.submissions(GUILD, 7) == []


async def test_rounds_due_are_overdue_or_missing_a_step_of_their_close(db: Database) -> None:
    """Due rounds are open past their closing time, or closed without recorded results or a closed poll message."""
    overdue = await open_round(db, GUILD, closes_at=NOW - timedelta(minutes=1))
    later = await open_round(db, OTHER_GUILD, closes_at=NOW + timedelta(hours=1))
    assert [r.id for r in await db.polls.rounds_due(NOW)] == [overdue.id]
    assert await db.polls.next_closing_time() == overdue.closes_at
    await db.polls.close_round(overdue.id, NOW)
    assert [r.id for r in await db.polls.rounds_due(NOW)] == [overdue.id]  # results not posted yet
    await db.polls.set_results_message(overdue.id, 555)
    due = await db.polls.rounds_due(NOW)
    assert [(r.id, r.results_message_id, r.poll_message_closed) for r in due] == [(overdue.id, 555, False)]
    await db.polls.set_poll_message_closed(overdue.id)
    assert await db.polls.rounds_due(NOW) == []
    finished = await db.polls.get_round(overdue.id)
    assert finished is not None and finished.close_finished
    assert await db.polls.next_closing_time() == later.closes_at


async def test_a_refused_results_post_settles_the_results_step(db: Database) -> None:
    """A results post Discord refused for good is recorded as refused (no message id) and never due again for it."""
    poll = await open_round(db)
    await db.polls.close_round(poll.id, NOW)
    await db.polls.set_results_refused(poll.id)
    refused = await db.polls.get_round(poll.id)
    assert refused is not None and refused.results_refused and refused.results_message_id is None
    assert refused.results_settled and not refused.close_finished  # the poll message is still to be edited
    assert [r.id for r in await db.polls.rounds_due(NOW)] == [poll.id]
    await db.polls.set_poll_message_closed(poll.id)
    assert await db.polls.rounds_due(NOW) == []
    with pytest.raises(CONSTRAINT_ERRORS, match=CHECK_FAILED):  # refused and posted at once is not a state
        await db.polls.set_results_message(poll.id, 555)


async def test_min_respondents_defaults_to_five_and_is_stored_per_server(db: Database) -> None:
    """A server's minimum respondents is 5 until an admin changes it; the change stays with that server."""
    assert (await db.polls.pdoom_settings(GUILD)).min_respondents == 5
    assert (await db.polls.set_pdoom_min_respondents(GUILD, 8)).min_respondents == 8
    assert (await db.polls.set_pdoom_min_respondents(GUILD, 3)).min_respondents == 3
    assert (await db.polls.pdoom_settings(GUILD)).min_respondents == 3
    assert (await db.polls.pdoom_settings(OTHER_GUILD)).min_respondents == 5


@pytest.mark.parametrize("minimum", [2, 0, -1])
async def test_min_respondents_below_three_is_refused_by_the_schema(db: Database, minimum: int) -> None:
    """The table's CHECK refuses a minimum below 3, whatever the caller does, and keeps the old value."""
    await db.polls.set_pdoom_min_respondents(GUILD, 6)
    with pytest.raises(CONSTRAINT_ERRORS, match=CHECK_FAILED):
        await db.polls.set_pdoom_min_respondents(GUILD, minimum)
    assert (await db.polls.pdoom_settings(GUILD)).min_respondents == 6


async def test_forget_deletes_one_members_estimates_in_one_server(db: Database) -> None:
    """Forgetting removes a member's submissions and current answers in that server only."""
    here = await open_round(db)
    there = await open_round(db, OTHER_GUILD)
    for poll in (here, there):
        await db.polls.record_vote(round_id=poll.id, user_id=7, value=0.2, raw="20", source="button", now=NOW)
        await db.polls.record_vote(round_id=poll.id, user_id=8, value=0.4, raw="40", source="button", now=NOW)
    assert await db.polls.forget_member(GUILD, 7) == 1
    assert await db.polls.current_answers(here.id) == {8: 0.4}
    assert await db.polls.current_answers(there.id) == {7: 0.2, 8: 0.4}
    assert await db.polls.answers_by_round(GUILD) == {here.id: {8: 0.4}}


@pytest.mark.sqlite_only  # reads the file with a second connection
async def test_a_recorded_vote_is_committed_before_returning(db: Database, tmp_path: Path) -> None:
    """As soon as record_vote returns, another connection (another process after a crash) sees the vote."""
    poll = await open_round(db)
    await db.polls.record_vote(round_id=poll.id, user_id=7, value=0.25, raw="25", source="button", now=NOW)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as other:
        assert other.execute("SELECT user_id, value FROM pdoom_current").fetchall() == [(7, 0.25)]
        assert other.execute("SELECT count(*) FROM pdoom_votes").fetchone() == (1,)


async def test_migration_marks_rounds_finished_before_it_as_done(tmp_path: Path) -> None:
    """Upgrading keeps rounds whose results were posted out of the closer's work; an unposted one stays due."""
    path = tmp_path / "old.sqlite3"
    await (await Database.open(path, [m for m in migrations.discover() if m.version < 4])).close()
    with sqlite3.connect(path) as conn:  # rows as the code before migration 4 left them
        for number, results_message_id in ((1, 555), (2, None)):
            conn.execute(
                "INSERT INTO pdoom_rounds (guild_id, number, channel_id, question, doom_definition, horizon, "
                "show_results_early, opened_by, opened_at, closed_at, results_message_id) "
                "VALUES (?, ?, 10, 'q', 'd', 'h', 0, 1, ?, ?, ?)",
                (GUILD, number, NOW.isoformat(), NOW.isoformat(), results_message_id),
            )
    async with await Database.open(path) as db:
        assert [r.number for r in await db.polls.rounds_due(NOW)] == [2]
        finished = await db.polls.get_round_by_number(GUILD, 1)
        assert finished is not None and finished.close_finished


async def test_migration_turns_the_message_id_zero_into_the_refused_state(tmp_path: Path) -> None:
    """Upgrading moves results recorded as message id 0 (refused for good) to results_refused, with no message id."""
    path = tmp_path / "old.sqlite3"
    await (await Database.open(path, [m for m in migrations.discover() if m.version < 6])).close()
    with sqlite3.connect(path) as conn:  # rows as the code before migration 6 left them
        for number, results_message_id, poll_message_closed in ((1, 0, 1), (2, 555, 1), (3, None, 0), (4, 0, 0)):
            conn.execute(
                "INSERT INTO pdoom_rounds (guild_id, number, channel_id, question, doom_definition, horizon, "
                "show_results_early, opened_by, opened_at, closed_at, results_message_id, poll_message_closed) "
                "VALUES (?, ?, 10, 'q', 'd', 'h', 0, 1, ?, ?, ?, ?)",
                (GUILD, number, NOW.isoformat(), NOW.isoformat(), results_message_id, poll_message_closed),
            )
    async with await Database.open(path) as db:
        rounds = {r.number: r for r in await db.polls.rounds(GUILD)}
        assert [(r.results_message_id, r.results_refused) for r in rounds.values()] == [
            (None, True),
            (555, False),
            (None, False),
            (None, True),
        ]
        assert rounds[1].close_finished and rounds[2].close_finished
        # Round 3 still needs its results; round 4 only its poll message edited (its results stay refused).
        assert [r.number for r in await db.polls.rounds_due(NOW)] == [3, 4]
