"""Prompt queries against each backend: imports, claims, failures, schedules and engagement."""

from datetime import UTC, date, datetime, time, timedelta

from bot.db import Database
from bot.domain.content import StarterPrompt
from bot.domain.prompts import Schedule
from bot.domain.schedule import Occurrence

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=12)
STARTERS = [
    StarterPrompt(
        id="first",
        title="First",
        text="What is the first question we should ask?",
        concept="king-midas",
        tags=("specification",),
    ),
    StarterPrompt(
        id="second", text="What is the second question we should ask?", concept="goodharts-law", tags=("training",)
    ),
]


def schedule(guild_id: int, due: datetime, **changes: object) -> Schedule:
    """Build a schedule due at `due`."""
    values: dict[str, object] = {
        "guild_id": guild_id,
        "channel_id": 5,
        "weekday": 4,
        "local_time": time(19),
        "timezone": "Europe/London",
        "ping_role_id": None,
        "open_thread": True,
        "mod_channel_id": None,
        "paused": False,
        "skip_next": False,
        "grace_hours": 12,
        "next_due_at": due,
        "next_local_date": due.date().isoformat(),
        "last_outcome": None,
    }
    return Schedule(**(values | changes))  # type: ignore[arg-type]


async def test_starter_import_is_idempotent_even_after_retiring(db: Database) -> None:
    """Importing twice adds nothing new, and a retired starter is not brought back."""
    assert await db.prompts.import_starter_prompts(1, STARTERS, NOW) == 2
    first = (await db.prompts.list_prompts(1, "approved"))[0]
    await db.prompts.update_prompt(1, first.id, status="retired")
    assert await db.prompts.import_starter_prompts(1, STARTERS, NOW) == 0
    assert await db.prompts.count_prompts(1, "approved") == 1
    assert await db.prompts.import_starter_prompts(2, STARTERS, NOW) == 2  # another server gets its own copy


async def test_an_occurrence_is_claimed_once_and_its_prompt_leaves_the_queue(db: Database) -> None:
    """The first claim wins and marks the prompt posted; a second claim for the same occurrence gets None."""
    await db.prompts.import_starter_prompts(1, STARTERS, NOW)
    prompt = (await db.prompts.list_prompts(1, "approved"))[0]
    post = await db.prompts.claim_post(
        guild_id=1,
        occurrence="2026-11-27",
        prompt_id=prompt.id,
        channel_id=5,
        wants_thread=True,
        now=NOW,
        deadline=LATER,
    )
    assert post is not None and post.status == "claimed"
    again = await db.prompts.claim_post(
        guild_id=1,
        occurrence="2026-11-27",
        prompt_id=prompt.id,
        channel_id=5,
        wants_thread=True,
        now=NOW,
        deadline=LATER,
    )
    assert again is None
    assert (await db.prompts.get_prompt(1, prompt.id)).status == "posted"  # type: ignore[union-attr]
    assert [p.id for p in await db.prompts.claimed_posts(NOW)] == [post.id]
    await db.prompts.complete_post(post.id, 999, NOW)
    assert await db.prompts.claimed_posts(NOW) == []
    assert [p.id for p in await db.prompts.posts_missing_thread(NOW)] == [post.id]
    await db.prompts.set_post_thread(post.id, 777)
    assert await db.prompts.posts_missing_thread(NOW) == []


async def test_a_failed_post_puts_its_prompt_back(db: Database) -> None:
    """When a claimed post fails, the prompt returns to the queue for next time."""
    await db.prompts.import_starter_prompts(1, STARTERS, NOW)
    prompt = (await db.prompts.list_prompts(1, "approved"))[0]
    post = await db.prompts.claim_post(
        guild_id=1, occurrence="d", prompt_id=prompt.id, channel_id=5, wants_thread=False, now=NOW, deadline=LATER
    )
    assert post is not None
    await db.prompts.fail_post(post.id, "channel deleted", NOW)
    assert (await db.prompts.get_prompt(1, prompt.id)).status == "approved"  # type: ignore[union-attr]


async def test_next_due_and_due_schedules_ignore_paused_ones(db: Database) -> None:
    """The next due time is the earliest active schedule's; paused schedules are not due."""
    await db.schedules.save_schedule(schedule(1, NOW + timedelta(hours=1)))
    await db.schedules.save_schedule(schedule(2, NOW - timedelta(hours=1), paused=True))
    await db.schedules.save_schedule(schedule(3, NOW + timedelta(days=2)))
    assert await db.schedules.next_schedule_due() == NOW + timedelta(hours=1)
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW + timedelta(hours=2))] == [1]
    nxt = Occurrence(date(2026, 12, 4), NOW + timedelta(days=7))
    current = await db.schedules.get_schedule(1)
    assert current is not None
    assert await db.schedules.advance_schedule(1, current.next_local_date, nxt, "Posted")
    row = await db.schedules.get_schedule(1)
    assert row is not None and row.next_local_date == "2026-12-04" and row.last_outcome == "Posted"
    await db.schedules.update_schedule_state(2, paused=False)
    assert await db.schedules.next_schedule_due() == NOW - timedelta(hours=1)


async def test_engagement_counts_messages_and_distinct_members(db: Database) -> None:
    """Each message counts once; each member counts once however many messages they send."""
    await db.prompts.import_starter_prompts(1, STARTERS, NOW)
    prompt = (await db.prompts.list_prompts(1, "approved"))[0]
    post = await db.prompts.claim_post(
        guild_id=1, occurrence="d", prompt_id=prompt.id, channel_id=5, wants_thread=True, now=NOW, deadline=LATER
    )
    assert post is not None
    await db.prompts.complete_post(post.id, 1, NOW)
    for user in (10, 11, 10, 10):
        await db.prompts.record_thread_message(post.id, user)
    [stats] = await db.prompts.post_stats(1)
    assert (stats.messages, stats.participants) == (4, 2)
    assert stats.prompt is not None and stats.prompt.id == prompt.id


async def test_a_prompt_is_claimed_by_one_post_only(db: Database) -> None:
    """Two posts racing for one prompt (a weekly post and /prompts-admin post-now): the second gets None, no row."""
    await db.prompts.import_starter_prompts(1, STARTERS, NOW)
    prompt = (await db.prompts.list_prompts(1, "approved"))[0]
    first = await db.prompts.claim_post(
        guild_id=1,
        occurrence="2026-11-27",
        prompt_id=prompt.id,
        channel_id=5,
        wants_thread=False,
        now=NOW,
        deadline=LATER,
    )
    second = await db.prompts.claim_post(
        guild_id=1, occurrence="now-1", prompt_id=prompt.id, channel_id=5, wants_thread=False, now=NOW, deadline=LATER
    )
    assert first is not None and second is None
    assert await db.prompts.post_for_occurrence(1, "now-1") is None


async def test_advancing_is_a_compare_and_set_on_the_week(db: Database) -> None:
    """A pass that finished an old week does not move a schedule an admin has just set to another week."""
    await db.schedules.save_schedule(schedule(1, NOW))
    nxt = Occurrence(date(2026, 12, 4), NOW + timedelta(days=7))
    assert not await db.schedules.advance_schedule(1, "2026-11-20", nxt, "Posted")
    row = await db.schedules.get_schedule(1)
    assert row is not None and row.next_local_date == NOW.date().isoformat() and row.last_outcome is None


async def test_a_retry_delays_only_that_schedule_and_advancing_clears_it(db: Database) -> None:
    """A schedule waiting to retry is due at its retry time, counts its attempts, and starts afresh next week."""
    await db.schedules.save_schedule(schedule(1, NOW))
    await db.schedules.save_schedule(schedule(2, NOW))
    row = await db.schedules.get_schedule(1)
    assert row is not None
    assert (
        await db.schedules.retry_schedule_later(1, row.next_local_date, NOW + timedelta(minutes=1), "Discord had a 503")
        == 1
    )
    assert (
        await db.schedules.retry_schedule_later(1, row.next_local_date, NOW + timedelta(minutes=2), "Discord had a 503")
        == 2
    )
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW)] == [2]
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW + timedelta(minutes=2))] == [2, 1]
    waiting = await db.schedules.get_schedule(1)
    assert waiting is not None and waiting.attempts == 2 and waiting.retry_reason == "Discord had a 503"
    await db.schedules.advance_schedule(
        2, row.next_local_date, Occurrence(date(2026, 12, 4), NOW + timedelta(days=7)), "ok"
    )
    assert await db.schedules.next_schedule_due() == NOW + timedelta(minutes=2)
    await db.schedules.advance_schedule(
        1, row.next_local_date, Occurrence(date(2026, 12, 4), NOW + timedelta(days=7)), "ok"
    )
    moved = await db.schedules.get_schedule(1)
    assert moved is not None and (moved.attempts, moved.retry_at, moved.retry_reason) == (0, None, None)


async def test_a_pending_retry_can_be_brought_forward_to_now(db: Database) -> None:
    """When what a server waited for is back, its retry becomes due at once; a schedule not retrying is untouched."""
    await db.schedules.save_schedule(schedule(1, NOW))
    await db.schedules.save_schedule(schedule(2, NOW + timedelta(days=1)))
    await db.schedules.retry_schedule_later(1, NOW.date().isoformat(), NOW + timedelta(minutes=5), "unavailable")
    assert await db.schedules.due_schedules(NOW + timedelta(minutes=1)) == []
    assert await db.schedules.retry_now(1, NOW + timedelta(minutes=1))
    assert [s.guild_id for s in await db.schedules.due_schedules(NOW + timedelta(minutes=1))] == [1]
    assert not await db.schedules.retry_now(1, NOW + timedelta(minutes=1))  # nothing left to bring forward
    assert not await db.schedules.retry_now(2, NOW + timedelta(minutes=1))
    untouched = await db.schedules.get_schedule(2)
    assert untouched is not None and untouched.retry_at is None


async def test_an_absent_server_is_never_due_until_it_comes_back(db: Database) -> None:
    """While the bot is out of a server its schedule is not due; coming back starts from the given occurrence."""
    await db.schedules.save_schedule(schedule(1, NOW))
    assert await db.schedules.set_schedule_absent(1, None)
    assert not await db.schedules.set_schedule_absent(1, None)  # already absent: nothing changes
    assert await db.schedules.due_schedules(NOW + timedelta(days=30)) == []
    assert await db.schedules.next_schedule_due() is None
    assert await db.schedules.schedule_presence() == {1: True}
    upcoming = Occurrence(date(2026, 12, 25), NOW + timedelta(days=28))
    assert await db.schedules.set_schedule_absent(1, upcoming)
    row = await db.schedules.get_schedule(1)
    assert row is not None and not row.absent and row.next_local_date == "2026-12-25"


async def test_a_post_fails_once_and_thread_retries_wait_their_turn(db: Database) -> None:
    """Failing a claimed post reports True once; a thread retry hides the post until its time, counting attempts."""
    await db.prompts.import_starter_prompts(1, STARTERS, NOW)
    prompt = (await db.prompts.list_prompts(1, "approved"))[0]
    post = await db.prompts.claim_post(
        guild_id=1, occurrence="d", prompt_id=prompt.id, channel_id=5, wants_thread=True, now=NOW, deadline=LATER
    )
    assert post is not None and post.deadline == LATER
    await db.prompts.complete_post(post.id, 99, NOW)
    assert await db.prompts.retry_thread_later(post.id, NOW + timedelta(minutes=2)) == 1
    assert await db.prompts.posts_missing_thread(NOW) == []
    assert await db.prompts.next_thread_retry() == NOW + timedelta(minutes=2)
    assert [p.thread_attempts for p in await db.prompts.posts_missing_thread(NOW + timedelta(minutes=2))] == [1]
    other = await db.prompts.claim_post(
        guild_id=1,
        occurrence="e",
        prompt_id=(await db.prompts.list_prompts(1, "approved"))[0].id,
        channel_id=5,
        wants_thread=False,
        now=NOW,
        deadline=LATER,
    )
    assert other is not None
    assert await db.prompts.fail_post(other.id, "AutoMod", NOW)
    assert not await db.prompts.fail_post(other.id, "AutoMod", NOW)


async def test_a_review_is_a_compare_and_set(db: Database) -> None:
    """Only the first review of a suggestion changes it, and it records who reviewed it."""
    suggestion = await db.prompts.add_prompt(
        guild_id=1,
        text="A suggested question about corrigibility?",
        title=None,
        concept_id=None,
        tags=(),
        author_id=5,
        status="suggested",
        now=NOW,
    )
    approved = await db.prompts.review_prompt(1, suggestion.id, "approved", 42)
    assert approved is not None and approved.status == "approved" and approved.reviewed_by == 42
    assert await db.prompts.review_prompt(1, suggestion.id, "rejected", 43) is None


async def test_saving_a_schedule_again_replaces_it_and_starts_afresh(db: Database) -> None:
    """A new /prompts-admin schedule replaces every setting and clears a pending retry and the absent mark."""
    await db.schedules.save_schedule(schedule(1, NOW))
    await db.schedules.retry_schedule_later(1, NOW.date().isoformat(), NOW + timedelta(minutes=1), "Discord had a 503")
    await db.schedules.set_schedule_absent(1, None)
    await db.schedules.save_schedule(schedule(1, LATER, channel_id=9, grace_hours=0, last_outcome="kept"))
    saved = await db.schedules.get_schedule(1)
    assert saved == schedule(1, LATER, channel_id=9, grace_hours=0, last_outcome="kept")
    assert (saved.retry_at, saved.attempts, saved.retry_reason, saved.absent) == (None, 0, None, False)
