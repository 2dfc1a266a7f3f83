"""How P(Doom) results read: withheld aggregates in small rounds, and a CSV export that spreadsheets can't run."""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.card import Card
from bot.domain.pdoom import PollRound, history_points, public_results
from bot.domain.pdoom_cards import csv_cell, export_csv, history_lines, poll_card, results_card, so_far_text

OPENED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FIVE = {m: v for m, v in enumerate([0.01, 0.05, 0.1, 0.2, 0.5])}
TWO = {1: 0.02, 2: 0.4}


def make_round(round_id: int = 1, question: str = "What is your P(doom)?", closed: bool = True) -> PollRound:
    """Return a stored-looking round."""
    return PollRound(
        id=round_id,
        guild_id=100,
        number=round_id,
        channel_id=10,
        message_id=20,
        question=question,
        doom_definition="everyone dies",
        horizon="this century",
        show_results_early=False,
        opened_by=1,
        opened_at=OPENED,
        closes_at=None,
        closed_at=OPENED if closed else None,
        results_message_id=None,
    )


def card_text(card: Card) -> str:
    """Flatten a card into one string for assertions."""
    return "\n".join([card.title, card.description, *(f"{name}: {value}" for name, value in card.fields)])


def test_results_of_a_small_round_show_the_count_and_why() -> None:
    """Two respondents: the results show the count and the reason, and no median, quartile or share."""
    text = card_text(results_card(make_round(), public_results(list(TWO.values())), ()))
    assert "Respondents: 2" in text
    assert "2 members answered; results are shown from 5, so nobody's answer can be worked out." in text
    for label in ("Median", "Middle half", "Geometric mean", "Above 10%", "2%", "40%"):
        assert label not in text


def test_results_of_a_large_enough_round_show_the_aggregates() -> None:
    """Five respondents: the median, middle half, geometric mean of odds and share above 10% are shown."""
    text = card_text(results_card(make_round(), public_results(list(FIVE.values())), ()))
    assert "Respondents: 5" in text and "Median: 10%" in text and "Middle half" in text
    assert "results need 5 respondents" in (results_card(make_round(), public_results([0.1] * 5), ()).footer or "")


def test_closed_poll_message_of_a_small_round_gives_the_reason() -> None:
    """After the close, the poll message of a 2-member round says why it shows no results, and no median."""
    text = card_text(poll_card(make_round(), 2, public_results(list(TWO.values()))))
    assert "This round is closed. 2 members answered; results are shown from 5" in text
    assert "Median" not in text and "Pick the range" not in text


def test_so_far_line_waits_for_the_minimum() -> None:
    """Voters in a show-results-early round see only the count and the reason until enough have answered."""
    assert so_far_text(public_results([0.1])) == (
        "So far: 1 member answered; results are shown from 5, so nobody's answer can be worked out."
    )
    assert so_far_text(public_results(list(FIVE.values()))).startswith("So far: median **10%**")


def test_history_lines_withhold_small_rounds() -> None:
    """/pdoom history describes a small round by its count and the reason, a large one by its median."""
    points = history_points([(1, "Nov 2026", FIVE), (2, "Dec 2026", TWO)])
    first, second = history_lines(points)
    assert first.startswith("**Round 1** (Nov 2026): median 10%")
    assert second == (
        "**Round 2** (Dec 2026): 2 members answered; results are shown from 5, so nobody's answer can be worked out."
    )


def test_export_leaves_aggregate_cells_empty_for_small_rounds() -> None:
    """The CSV gives every round's respondent count, but aggregates and bins only for rounds with enough of them."""
    rounds = [make_round(1), make_round(2)]
    rows = list(csv.DictReader(io.StringIO(export_csv(rounds, {1: FIVE, 2: TWO}, 5))))
    assert rows[0]["respondents"] == "5" and rows[0]["median"] == "0.1" and rows[0]["histogram"]
    assert rows[1]["respondents"] == "2"
    for column in ("median", "q1", "q3", "geometric_mean_odds", "share_above_10pct", "histogram"):
        assert rows[1][column] == ""


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("What is your P(doom)?", "What is your P(doom)?"),
        ("a=b", "a=b"),
        (0.175, "0.175"),
    ],
)
def test_csv_cells_that_look_like_formulas_are_neutralised(value: object, cell: str) -> None:
    """A cell starting with =, +, -, @, tab or carriage return gets a leading ' so spreadsheets show it as text."""
    assert csv_cell(value) == cell


def test_export_neutralises_the_question() -> None:
    """A question typed as a formula is exported as text, not as a formula."""
    poll = replace(make_round(), question='=HYPERLINK("http://evil.example","click")')
    rows = list(csv.DictReader(io.StringIO(export_csv([poll], {1: FIVE}, 5))))
    assert rows[0]["question"] == '\'=HYPERLINK("http://evil.example","click")'
