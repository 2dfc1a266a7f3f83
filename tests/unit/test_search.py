"""Concept matching (typos, case, aliases) and ranked full-text search."""

import gc
import sqlite3
from pathlib import Path

import pytest

from bot.domain.content_loader import load_content
from bot.domain.search import AUTOCOMPLETE_LIMIT, ConceptMatcher, FullTextIndex

STORE = load_content(Path(__file__).resolve().parents[1] / "fixtures" / "content" / "valid")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("goo", "goodharts-law"),
        ("godhart", "goodharts-law"),
        ("GOODHART'S LAW", "goodharts-law"),
        ("specification gaming", "reward-hacking"),
        ("spec gaming", "reward-hacking"),
        ("reward hackign", "reward-hacking"),
        ("midas", "king-midas"),
    ],
)
def test_best_match_tolerates_typos_case_and_aliases(query: str, expected: str) -> None:
    """The intended concept comes first whether typed by title, alias, id, in any case, or with a typo."""
    assert ConceptMatcher(STORE).matches(query)[0].concept_id == expected


def test_each_concept_is_listed_once_under_its_title() -> None:
    """A query matching a title and an alias of one concept lists it once, by its canonical title."""
    matches = ConceptMatcher(STORE).matches("goodhart")
    assert [m.concept_id for m in matches].count("goodharts-law") == 1
    assert matches[0].title == "Goodhart's law"


def test_empty_query_lists_alphabetically_and_nonsense_lists_nothing() -> None:
    """Before typing, concepts are listed A-Z; gibberish matches nothing."""
    matcher = ConceptMatcher(STORE)
    assert [m.title for m in matcher.matches("")] == ["Goodhart's law", "King Midas problem", "Reward hacking"]
    assert matcher.matches("zzzzqqq") == []


def test_never_more_than_the_limit() -> None:
    """At most 25 choices are returned, as Discord allows."""
    assert len(ConceptMatcher(STORE).matches("", limit=AUTOCOMPLETE_LIMIT)) <= AUTOCOMPLETE_LIMIT
    assert len(ConceptMatcher(STORE).matches("a", limit=2)) <= 2


def test_suggestions_for_a_near_miss() -> None:
    """A misspelt name gets the closest titles as suggestions."""
    assert ConceptMatcher(STORE).suggestions("kign midas")[0] == "King Midas problem"


def test_full_text_search_ranks_and_snippets() -> None:
    """Words in summaries and key points find their concept, with the words highlighted in a snippet."""
    hits = FullTextIndex(STORE).search("loopholes")
    assert hits[0].item_id == "reward-hacking"
    assert "**loophole" in hits[0].snippet


def test_title_matches_rank_above_body_matches() -> None:
    """A word in a concept's title outranks the same word in another concept's body."""
    hits = FullTextIndex(STORE).search("reward")
    assert hits[0].item_id == "reward-hacking"


@pytest.mark.parametrize("query", ['"', "AND", "NEAR(", "*", "title:gold", "-", "'; DROP TABLE docs; --"])
def test_search_syntax_in_user_input_is_harmless(query: str) -> None:
    """FTS5 operators and quotes in a query never raise; they are searched as plain words."""
    assert isinstance(FullTextIndex(STORE).search(query), list)


def test_prefix_of_last_word_matches() -> None:
    """The last word matches as a prefix, so a half-typed word still finds results."""
    assert FullTextIndex(STORE).search("rabb")[0].item_id == "king-midas"


def test_an_index_closes_its_database_when_the_last_reference_goes() -> None:
    """A reload drops the old index rather than closing it under a running lookup; dropping it closes its database."""
    index = FullTextIndex(STORE)
    database = index._conn
    assert index.search("rabb")
    del index
    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        database.execute("SELECT 1")
