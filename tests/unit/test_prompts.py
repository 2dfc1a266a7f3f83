"""Prompt queue rules: oldest first with theme rotation, near-duplicates, tags, how a post reads and is marked."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.content_loader import load_content
from bot.domain.prompt_cards import post_footer, prompt_card
from bot.domain.prompts import (
    POST_MARKER_TEMPLATE,
    Prompt,
    RecentThreads,
    choose_next,
    is_legacy_post,
    parse_tags,
    post_marker,
    similar_prompts,
    thread_name,
)

STORE = load_content(Path(__file__).resolve().parents[1] / "fixtures" / "content" / "valid")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def prompt(prompt_id: int, text: str = "What do you think?", tags: tuple[str, ...] = (), age: int = 0) -> Prompt:
    """Build an approved prompt created `age` days after T0."""
    return Prompt(
        id=prompt_id,
        guild_id=1,
        title=None,
        text=text,
        concept_id=None,
        tags=tags,
        author_id=None,
        starter_id=None,
        status="approved",
        created_at=T0 + timedelta(days=age),
        posted_at=None,
    )


def test_oldest_approved_comes_first() -> None:
    """Without themes, the oldest prompt is next (ties broken by id)."""
    assert choose_next([prompt(3, age=2), prompt(2, age=1), prompt(1, age=1)], ()) == prompt(1, age=1)


def test_a_theme_is_not_repeated_two_weeks_running_when_avoidable() -> None:
    """If last week was about power, the oldest prompt on another theme goes first; if all share it, oldest wins."""
    queue = [
        prompt(1, tags=("power",)),
        prompt(2, tags=("power", "governance"), age=1),
        prompt(3, tags=("hope",), age=2),
    ]
    assert choose_next(queue, ("power",)).id == 3  # type: ignore[union-attr]
    assert choose_next(queue[:2], ("power",)).id == 1  # type: ignore[union-attr]
    assert choose_next([], ("power",)) is None


def test_near_duplicates_are_flagged_and_different_questions_are_not() -> None:
    """A reworded copy of an existing prompt is flagged; an unrelated question is not."""
    existing = [
        prompt(1, "Would you trust an AI that can explain every step of its reasoning?"),
        prompt(2, "Which everyday measure has become a target in your life, and what did it cost?"),
    ]
    flagged = similar_prompts("would you trust an AI that can explain every step of its reasoning", existing)
    assert [p.id for p, _ in flagged] == [1]
    assert similar_prompts("How should labs share safety research with each other?", existing) == []


def test_parse_tags() -> None:
    """Tags are lowercased, hyphenated, de-duplicated and capped."""
    assert parse_tags("Power, power; Public Policy,,") == ("power", "public-policy")
    assert parse_tags(None) == ()
    assert len(parse_tags("a,b,c,d,e,f,g")) == 5


def test_post_card_has_the_question_concept_and_readings() -> None:
    """The post shows the question, its concept's first sentence, readings, and a footer naming the occurrence."""
    base = prompt(7, "Where have you seen a proxy gamed?")
    linked = Prompt(**{f: getattr(base, f) for f in base.__slots__} | {"concept_id": "goodharts-law"})
    card = prompt_card(linked, STORE, "2026-11-27")
    assert card.description == "Where have you seen a proxy gamed?"
    names = [name for name, _ in card.fields]
    assert names == ["Background: Goodhart's law", "Read more"]
    assert card.footer == post_footer("2026-11-27") == "Weekly prompt · 2026-11-27"
    assert len(thread_name(prompt(1, "x" * 300))) == 100


def test_a_post_marker_names_the_post_and_matches_the_buttons_template() -> None:
    """The marker is the custom_id of the post's button; the template reads the post id back from it."""
    assert post_marker(42) == "align:prompt:suggest:42"
    match = re.fullmatch(POST_MARKER_TEMPLATE, post_marker(42))
    assert match is not None and match["post_id"] == "42"
    assert len(post_marker(2**63)) <= 100  # Discord's custom_id limit


def test_posts_from_before_the_button_are_recognised_by_their_frozen_footer() -> None:
    """The old footer of that very occurrence matches; another week, or today's wording changed, does not."""
    assert is_legacy_post("Weekly prompt · 2026-11-27", "2026-11-27")
    assert not is_legacy_post("Weekly prompt · 2026-12-04", "2026-11-27")
    assert not is_legacy_post("This week's question (2026-11-27)", "2026-11-27")
    assert not is_legacy_post(None, "2026-11-27")


def test_recent_threads_forget_a_thread_after_its_first_week() -> None:
    """A thread counts during the engagement window; after it, lookups miss and pruning drops it."""
    threads = RecentThreads(timedelta(days=7))
    threads.add(10, post_id=1, opened_at=T0)
    threads.add(20, post_id=2, opened_at=T0 + timedelta(days=3))
    assert threads.post_for(10, T0 + timedelta(days=7)) == 1
    assert threads.post_for(10, T0 + timedelta(days=7, seconds=1)) is None
    assert len(threads) == 1  # the expired thread was dropped as it was met
    threads.prune(T0 + timedelta(days=11))
    assert len(threads) == 0 and threads.post_for(20, T0 + timedelta(days=4)) is None
    threads.reset({30: (3, T0), 40: (4, T0 + timedelta(days=6))}, now=T0 + timedelta(days=8))
    assert len(threads) == 1 and threads.post_for(40, T0 + timedelta(days=8)) == 4
