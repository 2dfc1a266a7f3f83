"""Browsing and sharing cards: what a Share button re-renders, the sharer's credit, and hostile text staying data."""

from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest

from bot.domain.card import EMBED_DESCRIPTION_LIMIT, EMBED_TITLE_LIMIT, EMBED_TOTAL_LIMIT, Card
from bot.domain.cards import (
    readings_card,
    search_card,
    share_refused_text,
    share_wait_text,
    shared_by,
    shared_card,
    step_card,
    steps_overview_card,
    tour_card,
    unknown_step_text,
)
from bot.domain.content import READING_LEVELS, Reading, ReadingLevel, concept_card
from bot.domain.content_loader import load_content
from bot.domain.search import Library, SearchHit
from bot.errors import UserFacingError

STORE = load_content(Path(__file__).resolve().parents[1] / "fixtures" / "content" / "valid")
SHIPPED = load_content(Path(__file__).resolve().parents[2] / "content")


def within_limits(card: Card) -> bool:
    """Whether the card fits Discord's title, description and total limits."""
    return (
        len(card.title) <= EMBED_TITLE_LIMIT
        and len(card.description) <= EMBED_DESCRIPTION_LIMIT
        and card.total_length() <= EMBED_TOTAL_LIMIT
    )


def test_reading_levels_are_defined_once_in_order() -> None:
    """The levels the models accept, /reading offers and sorting uses are one tuple, easiest first."""
    assert READING_LEVELS == ("intro", "intermediate", "technical")
    assert get_args(ReadingLevel) == READING_LEVELS
    assert get_args(Reading.model_fields["level"].annotation) == READING_LEVELS


def test_readings_are_listed_easiest_first() -> None:
    """Without filters, intro readings come before technical ones."""
    lines = readings_card(STORE, None, None).description.splitlines()
    assert [line.rsplit("(", 1)[1].split(",")[1].strip(" )") for line in lines] == [
        "intro",
        "intro",
        "intro",
        "technical",
    ]


@pytest.mark.parametrize(
    ("kind", "key", "title"),
    [
        ("concept", "king-midas", "King Midas problem"),
        ("tour", "0", "Step 1: We can't say precisely what we want"),
        ("step", "build", "We can't build precisely what we specify"),
        ("reading", "goodharts-law.intro", "Readings for Goodhart's law (intro)"),
        ("reading", ".", "Readings"),
    ],
)
def test_shared_card_re_renders_what_the_button_stands_for(kind: str, key: str, title: str) -> None:
    """Each kind of Share button re-renders its card from the key in its custom_id."""
    assert shared_card(STORE, kind, key).title == title


def test_every_browsing_card_of_the_shipped_content_fits_even_when_shared() -> None:
    """Every tour page, step, reading list and concept card of the real content fits, with a sharer's credit too."""
    store = SHIPPED
    cards = [steps_overview_card(store), readings_card(store, None, None)]
    cards += [tour_card(store, page)[0] for page in range(tour_card(store, 0)[2])]
    cards += [step_card(store, step.id) for step in store.steps]
    cards += [concept_card(concept, store) for concept in store.concepts.values()]
    cards += [readings_card(store, c, level) for c in store.concepts.values() for level in (None, *READING_LEVELS)]
    assert len(cards) > 100
    assert all(within_limits(shared_by(card, "n" * 32)) for card in cards)


def test_shared_card_of_a_removed_item_is_a_sentence() -> None:
    """A Share button under a concept or step that a reload removed answers with a sentence."""
    with pytest.raises(UserFacingError, match="no longer in the library"):
        shared_card(STORE, "concept", "gone")
    with pytest.raises(UserFacingError, match="no longer in the outline"):
        shared_card(STORE, "step", "gone")


def test_shared_by_credits_the_sharer_within_the_reserved_room() -> None:
    """The sharer's name becomes the card's author line; even an absurd name keeps the card within the total."""
    card = concept_card(STORE.concepts["goodharts-law"], STORE)
    assert shared_by(card, "Ada").author == "Shared by Ada"
    assert shared_by(card, "Ada").title == card.title
    huge = shared_by(card, "@everyone **" + "x" * 5000)
    assert huge.author is not None and len(huge.author) <= 64
    assert within_limits(huge)


def test_search_card_keeps_a_hostile_query_as_data() -> None:
    """Markdown and mentions in a query are escaped in the title, and a long query is cut to fit."""
    card = search_card("**loud** <@123> [x](https://evil.example)", [])
    assert card.title == r"Search: \*\*loud\*\* \<@123> \[x\](https://evil.example)"
    long = search_card("y" * 1000, [SearchHit("concept", "c", "T" * 300, "s" * 2000)] * 10)
    assert within_limits(long)


def test_refusal_sentences() -> None:
    """Refusals name the missing permissions, the wait in whole seconds, and the steps there are."""
    assert share_refused_text(["Send Messages", "Embed Links"]) == (
        "You can't share here: posting a card in this channel needs Send Messages and Embed Links, "
        "which you don't have."
    )
    assert share_wait_text(timedelta(seconds=12.2)) == "Slow down a little: you can share another card in 13 s."
    assert unknown_step_text("x" * 100, ["a", "b"]).endswith("…'. Pick one of: a, b.")


def test_find_concept_suggests_close_names() -> None:
    """An unknown name raises a sentence suggesting the closest titles; a known one returns the concept."""
    library = Library.build(STORE)
    assert library.find_concept("midas").id == "king-midas"
    with pytest.raises(UserFacingError, match=r"Did you mean \*\*King Midas problem\*\*"):
        library.find_concept("kign midas")
