"""How the weekly prompts feature reads: review, queue, status and stats cards, its replies, outcomes and errors."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, time

import pytest

from bot.domain import prompt_errors, prompt_outcomes, prompt_texts
from bot.domain.card import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    Card,
)
from bot.domain.prompt_cards import PAGE_SIZE, page_count, queue_page_card, review_card, stats_card, status_card
from bot.domain.prompt_errors import NoSchedule, NoSuchPrompt
from bot.domain.prompt_outcomes import CHANNEL_GONE, QUEUE_EMPTY, gave_up, queue_running_low
from bot.domain.prompt_texts import prompt_added, schedule_saved, suggestion_received, verdict_message
from bot.domain.prompts import PostStats, Prompt, PromptPost, Schedule

T0 = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)


def prompt(prompt_id: int, text: str = "What would change your mind about AI risk?", **changes: object) -> Prompt:
    """Build a prompt."""
    values: dict[str, object] = {
        "id": prompt_id,
        "guild_id": 1,
        "title": None,
        "text": text,
        "concept_id": None,
        "tags": (),
        "author_id": None,
        "starter_id": None,
        "status": "approved",
        "created_at": T0,
        "posted_at": None,
    }
    return Prompt(**(values | changes))  # type: ignore[arg-type]


def schedule(**changes: object) -> Schedule:
    """Build a schedule for Fridays 19:00 London, next due 4 December 2026."""
    values: dict[str, object] = {
        "guild_id": 1,
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
        "next_due_at": datetime(2026, 12, 4, 19, 0, tzinfo=UTC),
        "next_local_date": "2026-12-04",
        "last_outcome": None,
    }
    return Schedule(**(values | changes))  # type: ignore[arg-type]


def within_limits(card: Card) -> bool:
    """Whether a card fits every one of Discord's embed limits."""
    return (
        len(card.title) <= EMBED_TITLE_LIMIT
        and len(card.description) <= EMBED_DESCRIPTION_LIMIT
        and all(len(value) <= EMBED_FIELD_LIMIT for _, value in card.fields)
        and len(card.footer or "") <= EMBED_FOOTER_LIMIT
        and card.total_length() <= EMBED_TOTAL_LIMIT
    )


def test_a_suggestion_for_review_shows_its_text_near_duplicates_and_author() -> None:
    """The review card names the suggestion, lists similar prompts with their score, and who suggested it."""
    card = review_card(
        prompt(7, title="Trust"), [(prompt(2, "Would you trust an AI that explains itself?"), 91.4)], "bob"
    )
    assert card.title == "Suggested prompt #7: Trust"
    assert card.description == "What would change your mind about AI risk?"
    assert card.fields == (("⚠️ Similar to", "#2 (91%): Would you trust an AI that explains itself?"),)
    assert card.footer == "Suggested by bob"
    assert review_card(prompt(7), [], None).fields == () and review_card(prompt(7), [], None).footer is None


def test_a_huge_suggestion_still_fits_an_embed() -> None:
    """Long titles, texts and names are cut so the card stays within Discord's limits."""
    huge = prompt(7, "x" * 9000, title="t" * 300)
    card = review_card(huge, [(prompt(n, "y" * 5000), 99.0) for n in range(20)], "n" * 3000)
    assert within_limits(card) and card.title.endswith("…")


def test_the_queue_list_pages_and_shows_status_and_themes() -> None:
    """Each line names the prompt, its status and themes; the footer counts pages and prompts."""
    page = [prompt(1, tags=("power", "values")), prompt(2, title="Short title", status="suggested")]
    card = queue_page_card(page, None, page=1, total=PAGE_SIZE + 2)
    assert card.title == "Prompts"
    assert card.description.splitlines() == [
        "**#1** [approved] What would change your mind about AI risk? · power, values",
        "**#2** [suggested] Short title",
    ]
    assert card.footer == "Page 2 of 2 · 10 prompt(s)"
    empty = queue_page_card([], "retired", page=0, total=0)
    assert (empty.title, empty.description, empty.footer) == (
        "Prompts (retired)",
        "No prompts here yet.",
        "Page 1 of 1 · 0 prompt(s)",
    )
    assert [page_count(n) for n in (0, 1, PAGE_SIZE, PAGE_SIZE + 1)] == [1, 1, 1, 2]


def test_status_shows_the_next_post_in_the_servers_time_and_the_last_outcome() -> None:
    """Active: the local time and Discord's timestamp; paused: no next post; no outcome yet: said so."""
    card = status_card(schedule(last_outcome="Posted prompt #1 for 2026-11-27"), approved_left=4)
    fields = dict(card.fields)
    assert card.description == "Fridays at 19:00 (Europe/London) in <#5>, active."
    assert fields["Next post"] == "Friday 04 December 2026, 19:00 Europe/London\n<t:1796410800:F>"
    assert fields["Last outcome"] == "Posted prompt #1 for 2026-11-27"
    assert fields["Approved prompts left"] == "4"
    paused = status_card(schedule(paused=True), approved_left=0)
    assert paused.description.endswith(", paused.") and dict(paused.fields)["Next post"] == "—"
    assert dict(paused.fields)["Last outcome"] == "Nothing posted yet"
    assert status_card(schedule(skip_next=True), 1).description.endswith("the next one will be skipped.")


def test_stats_list_engagement_per_post_and_point_at_the_remove_command() -> None:
    """Each recent post shows its prompt, week, messages and members; a deleted prompt shows as #?."""
    post = PromptPost(
        id=1,
        guild_id=1,
        occurrence="2026-11-27",
        prompt_id=3,
        channel_id=5,
        status="posted",
        claimed_at=T0,
        completed_at=T0,
        message_id=9,
        thread_id=9,
        wants_thread=True,
        error=None,
    )
    card = stats_card([PostStats(post, prompt(3, title="Power"), 3, 2), PostStats(post, None, 0, 0)])
    assert card.description.splitlines() == [
        "**#3 Power** · 2026-11-27: 3 message(s), 2 member(s)",
        "**#?** · 2026-11-27: 0 message(s), 0 member(s)",
    ]
    assert card.footer == "Retire prompts that got no discussion with /prompts-admin remove."


def test_every_sentence_that_names_a_command_names_where_it_is() -> None:
    """Admin commands live in /prompts-admin; no sentence sends an admin to the old /prompts place."""
    sentences = [
        CHANNEL_GONE,
        QUEUE_EMPTY,
        queue_running_low(1),
        NoSchedule().message,
        NoSuchPrompt(4).message,
        NoSuchPrompt().message,
        stats_card([]).footer or "",
    ]
    for sentence in sentences:
        assert "/prompts-admin " in sentence and "/prompts " not in sentence, sentence
    for module in (prompt_texts, prompt_errors, prompt_outcomes):
        assert "/prompts " not in inspect.getsource(module), module.__name__


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (suggestion_received(5, False), "Thanks! Your suggestion (#5) is waiting for an admin's review."),
        (
            suggestion_received(5, True),
            "Thanks! Your suggestion (#5) is waiting for an admin's review. "
            "It looks similar to an existing prompt, which the admins will see.",
        ),
        (prompt_added(6, None), "Added prompt #6 to the queue."),
        (prompt_added(6, 2), "Added prompt #6 to the queue. Note: it is similar to #2."),
        (gave_up(0, None), "it was not sent in time"),
        (gave_up(3, "Discord had a server error (503)"), "Discord had a server error (503); gave up after 3 tries"),
        (
            verdict_message("Reading Group", True, prompt(1, "q" * 300)),
            f"Your discussion prompt suggestion in Reading Group was approved: “{'q' * 199}…”",
        ),
        (
            verdict_message(None, False, prompt(1)),
            "Your discussion prompt suggestion in the server was rejected: "
            "“What would change your mind about AI risk?”",
        ),
        (
            schedule_saved(schedule(), "<#5>", imported=3),
            "Prompts will be posted in <#5> on Fridays at 19:00 (Europe/London). Next: <t:1796410800:F>. "
            "Imported 3 starter prompt(s).",
        ),
    ],
)
def test_replies_read_as_sentences(sentence: str, expected: str) -> None:
    """Replies and alerts say what happened in full sentences, with the numbers and names filled in."""
    assert sentence == expected
