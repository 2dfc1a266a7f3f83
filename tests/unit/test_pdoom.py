"""P(Doom) parsing, buckets, statistics and privacy-preserving histograms."""

import itertools
import math

import pytest

from bot.domain.pdoom import (
    BUCKET_LABELS,
    DEFAULT_MIN_RESPONDENTS,
    MAX_P,
    MIN_P,
    MIN_RESPONDENTS_FLOOR,
    PLACEHOLDER,
    EstimateError,
    bucket_estimate,
    format_probability,
    histogram,
    history_points,
    parse_estimate,
    private_bins,
    public_results,
    summarize,
)


# One or more rows per rule of the parser (the rules are listed above `parse_estimate` and in the README).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1. Normalising: spaces, case, "percent", fullwidth forms (NFKC), any script's digits, decimal commas,
        # thousands separators.
        (" 15 % ", 0.15),
        ("50 percent", 0.5),
        ("50 PERCENT", 0.5),
        ("１５％", 0.15),
        ("١٥", 0.15),
        ("١٥٪", 0.15),
        ("0,15", 0.15),
        ("12,5%", 0.125),
        ("1 in 1,000", 0.001),
        ("1 in 10,000", 0.0001),
        # 2. A number with % is a percentage.
        ("15%", 0.15),
        ("2.5%", 0.025),
        ("0.5%", 0.005),
        # 3. A bare number of 1 or more is a percentage, below 1 a probability.
        ("15", 0.15),
        ("1", 0.01),
        ("1.0", 0.01),
        ("1.5", 0.015),
        ("0.15", 0.15),
        (".15", 0.15),
        ("1e-3", 0.001),
        # 4. A range reads both ends on one scale (% on either end, or an upper end of 1 or more: percentages).
        ("10-25%", 0.175),
        ("10–25%", 0.175),
        ("10% - 25%", 0.175),
        ("10% - 25", 0.175),
        ("10 to 25", 0.175),
        ("0.1-0.2", 0.15),
        ("0-1", 0.005),
        ("0.5-1", 0.0075),
        ("0.5%-0.8", 0.0065),
        # 5. Fractions.
        ("1 in 30", 1 / 30),
        ("1/30", 1 / 30),
        ("1:30", 1 / 30),
        ("½", 0.5),
        # 6. Bounds record halfway to 0 or to 100%.
        ("<1%", 0.005),
        ("< 10%", 0.05),
        ("<1", 0.005),
        ("below 2", 0.01),
        ("≤5%", 0.025),
        (">90%", 0.95),
        (">0.9", 0.95),
        ("more than 50", 0.75),
    ],
)
def test_accepted_forms(text: str, expected: float) -> None:
    """Every documented form parses to the expected probability, keeping the raw text."""
    estimate = parse_estimate(text)
    assert math.isclose(estimate.value, expected)
    assert estimate.raw == text.strip()
    assert estimate.note is None


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "fifteen", "150%", "-5", "1/0", "2 in 1", "25-10%", "1e400", "10%%", "5 in", "1,500", "0-150"],
)
def test_rejected_forms_explain_what_is_accepted(text: str) -> None:
    """Anything else is refused with a sentence that lists the accepted forms."""
    with pytest.raises(EstimateError, match="1 in 30"):
        parse_estimate(text)


# 7. Clamping into 0.01%-99.99%.
@pytest.mark.parametrize(
    ("text", "value"),
    [("0", MIN_P), ("0%", MIN_P), ("1e-9", MIN_P), ("0-0", MIN_P), ("100%", MAX_P), ("100", MAX_P), ("1 in 1", MAX_P)],
)
def test_extremes_are_clamped_with_a_note(text: str, value: float) -> None:
    """0% and 100% are recorded as 0.01% and 99.99%, with a note saying so."""
    estimate = parse_estimate(text)
    assert estimate.value == value
    assert estimate.note is not None and "capped" in estimate.note


def test_the_forms_placeholder_fits_discord() -> None:
    """The exact-value form's placeholder is within Discord's 100 characters and parses as it claims."""
    assert len(PLACEHOLDER) <= 100
    assert math.isclose(parse_estimate("1").value, 0.01) and math.isclose(parse_estimate("0.15").value, 0.15)


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


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_small_rounds_publish_no_aggregate(count: int) -> None:
    """Below the default minimum of 5 respondents only the count is public: no summary, no bins, and a reason."""
    results = public_results([0.01 * (i + 1) for i in range(count)])
    assert (results.respondents, results.minimum, results.summary, results.bins) == (count, 5, None, ())
    assert results.withheld
    who = "1 member answered" if count == 1 else f"{count} members answered"
    assert results.reason == f"{who}; results are shown from 5, so nobody's answer can be worked out."


def test_rounds_with_enough_respondents_publish_aggregates() -> None:
    """From the minimum on, the summary and the merged bins are public; with nobody, nothing is withheld."""
    values = [0.01, 0.05, 0.1, 0.2, 0.5]
    results = public_results(values, DEFAULT_MIN_RESPONDENTS)
    assert results.summary == summarize(values) and results.bins == tuple(private_bins(values))
    assert not results.withheld
    assert not public_results([]).withheld and public_results([]).summary is None
    assert public_results(values, minimum=6).summary is None


def test_the_minimum_never_drops_below_the_floor() -> None:
    """A setting below 3 counts as 3: two answers are never summarised."""
    assert MIN_RESPONDENTS_FLOOR == 3
    assert public_results([0.1, 0.2], minimum=1).summary is None
    assert public_results([0.1, 0.2], minimum=1).minimum == 3
    assert public_results([0.1, 0.2, 0.3], minimum=1).summary is not None


def test_history_tracks_same_respondents() -> None:
    """The same-respondents pair uses only members who answered both rounds, and needs the minimum respondents."""
    first = {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.9}
    second = {1: 0.2, 2: 0.3, 3: 0.4, 5: 0.01}
    third = {6: 0.5}
    points = history_points([(1, "Jan", first), (2, "Feb", second), (3, "Mar", third)], minimum=3)
    assert [p.number for p in points] == [1, 2, 3]
    assert points[0].same_respondents is None
    assert points[1].same_respondents == (0.2, 0.3)
    assert points[2].same_respondents is None  # no overlap
    assert points[2].results.summary is None and points[2].results.respondents == 1


def test_history_withholds_small_rounds_and_small_overlaps() -> None:
    """With the default minimum of 5, rounds of 4 show only their count and a 4-member overlap is not compared."""
    first = {m: 0.1 * m for m in range(1, 6)}
    second = {m: 0.05 * m for m in range(2, 9)}  # 4 members answered both
    small = {m: 0.2 for m in range(1, 5)}
    points = history_points([(1, "Jan", first), (2, "Feb", second), (3, "Mar", small), (4, "Apr", {})])
    assert [p.number for p in points] == [1, 2, 3]
    assert points[0].results.summary is not None and points[1].results.summary is not None
    assert points[1].same_respondents is None
    assert points[2].results.summary is None and points[2].results.withheld
