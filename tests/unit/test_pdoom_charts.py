"""P(Doom) charts: user text is drawn as plain text, and rounds without public aggregates are left out."""

import pytest

from bot import charts
from bot.domain.pdoom import history_points, public_results

VALUES = [0.01, 0.05, 0.1, 0.2, 0.5]


@pytest.mark.parametrize(
    "question",
    [
        "If labs spent $1B on safety instead of $100M?",
        "Would $5 and 50% of $10 change your P(doom)?",
        r"Is $\foo$ a risk?",
        "x^2 and a_b $ ${ }$",
    ],
)
def test_histogram_draws_questions_with_dollars_as_plain_text(question: str) -> None:
    """A question with $, %, backslashes, ^ or _ draws a PNG: it is never read as matplotlib mathtext."""
    results = public_results(VALUES)
    assert results.summary is not None
    assert charts.histogram_png(results.bins, results.summary, question).startswith(b"\x89PNG")


def test_history_chart_skips_withheld_rounds() -> None:
    """The history chart draws the rounds whose aggregates are public and leaves small rounds out."""
    first = dict(enumerate(VALUES))
    points = history_points([(1, "Nov 2026", first), (2, "Dec 2026", {1: 0.3}), (3, "Jan 2027", first)])
    assert [p.results.summary is None for p in points] == [False, True, False]
    assert charts.history_png(points).startswith(b"\x89PNG")
