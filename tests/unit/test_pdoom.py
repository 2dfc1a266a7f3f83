"""P(Doom) parsing, buckets, statistics and privacy-preserving histograms."""

import itertools
import math

import pytest

from bot.domain.pdoom import (
    BUCKET_LABELS,
    MAX_P,
    MIN_P,
    EstimateError,
    bucket_estimate,
    format_probability,
    histogram,
    history_points,
    parse_estimate,
    private_bins,
    summarize,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15", 0.15),
        ("15%", 0.15),
        (" 15 % ", 0.15),
        ("0.15", 0.15),
        (".15", 0.15),
        ("0,15", 0.15),
        ("1 in 30", 1 / 30),
        ("1/30", 1 / 30),
        ("1:30", 1 / 30),
        ("1e-3", 0.001),
        ("2.5%", 0.025),
        ("1", 0.01),
        ("1.5", 0.015),
        ("<1%", 0.005),
        ("< 10%", 0.05),
        (">90%", 0.95),
        ("10-25%", 0.175),
        ("10–25%", 0.175),
        ("10% - 25%", 0.175),
        ("10 to 25", 0.175),
        ("0.1-0.2", 0.15),
        ("50 percent", 0.5),
    ],
)
def test_accepted_forms(text: str, expected: float) -> None:
    """Every documented form parses to the expected probability, keeping the raw text."""
    estimate = parse_estimate(text)
    assert math.isclose(estimate.value, expected)
    assert estimate.raw == text.strip()
    assert estimate.note is None


@pytest.mark.parametrize("text", ["", "   ", "abc", "fifteen", "150%", "-5", "1/0", "25-10%", "1e400", "10%%", "5 in"])
def test_rejected_forms_explain_what_is_accepted(text: str) -> None:
    """Anything else is refused with a sentence that lists the accepted forms."""
    with pytest.raises(EstimateError, match="1 in 30"):
        parse_estimate(text)


@pytest.mark.parametrize(
    ("text", "value"), [("0", MIN_P), ("0%", MIN_P), ("1e-9", MIN_P), ("100%", MAX_P), ("1.0", MAX_P)]
)
def test_extremes_are_clamped_with_a_note(text: str, value: float) -> None:
    """0% and 100% are recorded as 0.01% and 99.99%, with a note saying so."""
    estimate = parse_estimate(text)
    assert estimate.value == value
    assert estimate.note is not None and "capped" in estimate.note


def test_every_bucket_label_parses_to_its_midpoint() -> None:
    """Bucket buttons record the midpoint of their range, increasing from left to right."""
    values = [bucket_estimate(i).value for i in range(len(BUCKET_LABELS))]
    assert values == sorted(values)
    assert math.isclose(values[0], 0.005) and math.isclose(values[-1], 0.95)


@pytest.mark.parametrize(
    ("p", "text"), [(0.0005, "0.05%"), (0.005, "0.5%"), (0.03, "3%"), (0.175, "17.5%"), (0.15, "15%"), (0.999, "99.9%")]
)
def test_format_probability(p: float, text: str) -> None:
    """Percentages show with precision that suits their size."""
    assert format_probability(p) == text


def test_summary_of_known_values() -> None:
    """Median, quartiles, geometric mean of odds and the share above 10% match hand-computed values."""
    summary = summarize([0.05, 0.1, 0.2, 0.5])
    assert summary is not None
    assert summary.n == 4
    assert math.isclose(summary.median, 0.15)
    assert math.isclose(summary.q1, 0.0875) and math.isclose(summary.q3, 0.275)
    odds = math.exp(sum(math.log(p / (1 - p)) for p in [0.05, 0.1, 0.2, 0.5]) / 4)
    assert math.isclose(summary.geometric_mean_odds, odds / (1 + odds))
    assert summary.share_above_threshold == 0.5  # 0.1 itself is not above 10%


def test_summary_edge_cases() -> None:
    """No answers gives None; one answer or all-equal answers give that value everywhere; extremes stay finite."""
    assert summarize([]) is None
    single = summarize([0.3])
    assert single is not None and single.median == single.q1 == single.q3 == 0.3
    assert math.isclose(single.geometric_mean_odds, 0.3)
    same = summarize([0.2] * 5)
    assert same is not None and same.q1 == same.q3 == 0.2
    extremes = summarize([MIN_P, MAX_P])
    assert extremes is not None and math.isclose(extremes.geometric_mean_odds, 0.5)


def test_histogram_counts_every_value_once() -> None:
    """Each value lands in exactly one bin, including the top edge."""
    values = [MIN_P, 0.005, 0.1, 0.5, MAX_P]
    assert sum(b.count for b in histogram(values)) == len(values)


def test_private_bins_never_show_fewer_than_three() -> None:
    """Bins with one or two members are merged into neighbours; the total is preserved."""
    values = [0.001, 0.05, 0.1, 0.2, 0.5, 0.9, 0.91, 0.92]
    bins = private_bins(values)
    assert all(b.count == 0 or b.count >= 3 for b in bins)
    assert sum(b.count for b in bins) == len(values)
    assert all(a.high == b.low for a, b in itertools.pairwise(bins))


def test_private_bins_hide_tiny_rounds() -> None:
    """With fewer than three answers in total, no histogram is published."""
    assert private_bins([0.1, 0.2]) == []


def test_history_tracks_same_respondents() -> None:
    """The same-respondents pair uses only members who answered both rounds, and needs at least three."""
    first = {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.9}
    second = {1: 0.2, 2: 0.3, 3: 0.4, 5: 0.01}
    third = {6: 0.5}
    points = history_points([(1, "Jan", first), (2, "Feb", second), (3, "Mar", third)])
    assert [p.number for p in points] == [1, 2, 3]
    assert points[0].same_respondents is None
    assert points[1].same_respondents == (0.2, 0.3)
    assert points[2].same_respondents is None  # no overlap
