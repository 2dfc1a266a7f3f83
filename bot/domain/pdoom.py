"""P(Doom): parsing what members type, buckets, and honest aggregates over long-tailed probabilities.

Probabilities of catastrophe spread over orders of magnitude (0.1% and 10% are very different views), so
aggregates that respect that are used: the median and quartiles, the geometric mean of odds (the mean in
log-odds space), and histograms on a log-odds axis.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserFacingError

MIN_P = 0.0001  # 0.01%
MAX_P = 0.9999  # 99.99%
THRESHOLD = 0.10  # the essay's question: above or below 10%?
MIN_BIN_COUNT = 3  # public histograms never show a bin with fewer members than this

# Aggregates of a round are published only from this many respondents: with 1 the median is the answer, with 2
# the quartiles give both answers, with 3 the quartiles and median give all three.
DEFAULT_MIN_RESPONDENTS = 5
MIN_RESPONDENTS_FLOOR = 3  # a server may lower its minimum to this, never below
MAX_MIN_RESPONDENTS = 100

ACCEPTED_FORMS = (
    "`15` or `15%` (a bare number from 1 up is a percentage), `0.15` (below 1: a probability), `1 in 30`, `1/30`, "
    "`<1%`, `>90%` or a range like `10-25%`"
)
# What the exact-value form shows in its empty field (Discord allows at most 100 characters).
PLACEHOLDER = "15 or 15% · 0.15 = 15% · 1 = 1% · 1 in 30 · <1% · 10-25%"

# Buttons: ranges chosen for long tails, each stored as the midpoint the parser gives its label.
BUCKET_LABELS: tuple[str, ...] = ("<1%", "1-5%", "5-10%", "10-25%", "25-50%", "50-75%", "75-90%", ">90%")


class EstimateError(UserFacingError):
    """What was typed is not a probability we can read; the message shows the accepted forms."""

    default_message = f"Please type a probability, for example {ACCEPTED_FORMS}."


@dataclass(frozen=True, slots=True)
class Estimate:
    """A parsed probability: the value stored, the text as typed, and a note when it was clamped."""

    value: float
    raw: str
    note: str | None = None


# The parser's rules (README, "P(Doom) polls", lists them for members; tests/unit/test_pdoom.py has a row for each):
#  1. Normalise: Unicode NFKC (fullwidth １５％ becomes 15%), digits of any script become 0-9, case and spaces are
#     ignored, "percent" and ٪ mean %, a comma between groups of three digits (1,000) separates thousands and any
#     other comma is a decimal point (0,15).
#  2. A number with % is a percentage.
#  3. A bare number of 1 or more is a percentage, below 1 a probability: 1 = 1.0 = 1%, 1.5 = 1.5%, 0.15 = 15%.
#  4. A range (10-25%, 10 to 25, 0.1-0.2) reads both ends on one scale: percentages if either end has % or the
#     upper end is 1 or more (0-1 is 0%-1%), else probabilities; it is recorded at its midpoint.
#  5. "a in b", "a/b" and "a:b" are the fraction a/b (1 in 30 = 3.3%).
#  6. "<x" records halfway to 0 (x/2), ">x" halfway to 100%; x is read by rules 2-3.
#  7. The result must lie in 0%-100%; it is clamped into 0.01%-99.99%, with a note when that changed it.
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?"
_FRACTION = re.compile(rf"^(?P<a>{_NUMBER})(?:in|/|:|⁄)(?P<b>{_NUMBER})$")
_RANGE = re.compile(rf"^(?P<a>{_NUMBER})(?P<pa>%?)(?:-|–|—|−|to)(?P<b>{_NUMBER})(?P<pb>%?)$")
_BOUND = re.compile(rf"^(?P<op><=?|>=?|≤|≥|under|below|over|above|lessthan|morethan)(?P<x>{_NUMBER})(?P<pct>%?)$")
_PLAIN = re.compile(rf"^(?P<x>{_NUMBER})(?P<pct>%?)$")
_THOUSANDS = re.compile(r"(?<![0-9.,])([1-9][0-9]{0,2})((?:,[0-9]{3})+)(?![0-9,])")
_BELOW = frozenset({"<", "<=", "≤", "under", "below", "lessthan"})


def _normalise(text: str) -> str:
    """Apply rule 1: one spelling for every way of writing the same number."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    text = re.sub(r"\s+", "", text).replace("percent", "%").replace("٪", "%")  # NFKC keeps the Arabic percent sign
    text = _THOUSANDS.sub(lambda m: m[1] + m[2].replace(",", ""), text)
    return text.replace(",", ".")


def _scalar(number: str, percent: bool) -> float:
    """Read one number by rules 2 and 3."""
    value = float(number)
    return value / 100 if percent or value >= 1 else value


def parse_estimate(text: str) -> Estimate:
    """Parse a probability as members write it (the rules above), clamping it into 0.01%-99.99% with a note."""
    raw = text.strip()
    compact = _normalise(raw)
    if not compact:
        raise EstimateError(f"Please type a probability, for example {ACCEPTED_FORMS}.")
    value: float | None = None
    if match := _FRACTION.match(compact):
        denominator = float(match["b"])
        if denominator > 0:
            value = float(match["a"]) / denominator
    elif match := _RANGE.match(compact):
        percent = bool(match["pa"] or match["pb"]) or float(match["b"]) >= 1
        low, high = _scalar(match["a"], percent), _scalar(match["b"], percent)
        if low <= high:
            value = high if high > 1 else (low + high) / 2  # an end above 100% is refused below, like 150%
    elif match := _BOUND.match(compact):
        bound = _scalar(match["x"], bool(match["pct"]))
        value = bound / 2 if match["op"] in _BELOW else (bound + 1) / 2
    elif match := _PLAIN.match(compact):
        value = _scalar(match["x"], bool(match["pct"]))
    if value is None or not math.isfinite(value):
        raise EstimateError(f"I couldn't read {raw[:40]!r} as a probability. Try {ACCEPTED_FORMS}.")
    if value < 0 or value > 1:
        raise EstimateError(f"{raw[:40]!r} is not between 0% and 100%. Try {ACCEPTED_FORMS}.")
    if value < MIN_P:
        return Estimate(MIN_P, raw, "Recorded as 0.01%: certainty isn't on the scale, so the extremes are capped.")
    if value > MAX_P:
        return Estimate(MAX_P, raw, "Recorded as 99.99%: certainty isn't on the scale, so the extremes are capped.")
    return Estimate(value, raw)


@functools.cache  # a label always parses the same (Estimate is frozen), so a click need not parse it again
def bucket_estimate(index: int) -> Estimate:
    """Return the estimate a bucket button records."""
    return parse_estimate(BUCKET_LABELS[index])


def format_probability(p: float) -> str:
    """Show a probability as a percentage with sensible precision (0.05%, 3%, 17.5%, 99.9%)."""
    percent = p * 100
    if percent < 1 or percent > 99:
        text = f"{percent:.2f}"
    elif percent < 10 or percent > 90:
        text = f"{percent:.1f}"
    else:
        text = f"{percent:.1f}" if abs(percent - round(percent)) >= 0.05 else f"{percent:.0f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text}%"


def logit(p: float) -> float:
    """Return the log-odds of p."""
    return math.log(p / (1 - p))


def inverse_logit(x: float) -> float:
    """Return the probability whose log-odds is x."""
    return 1 / (1 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class Summary:
    """Aggregates of one round's current answers."""

    n: int
    median: float
    q1: float
    q3: float
    geometric_mean_odds: float
    share_above_threshold: float


def summarize(values: Sequence[float]) -> Summary | None:
    """Summarise answers; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        q1 = q3 = ordered[0]
    else:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    mean_log_odds = statistics.fmean(logit(v) for v in ordered)
    return Summary(
        n=len(ordered),
        median=statistics.median(ordered),
        q1=q1,
        q3=q3,
        geometric_mean_odds=inverse_logit(mean_log_odds),
        share_above_threshold=sum(v > THRESHOLD for v in ordered) / len(ordered),
    )


def describe_summary(summary: Summary) -> list[tuple[str, str]]:
    """Return (label, value) pairs for showing a summary."""
    return [
        ("Respondents", str(summary.n)),
        ("Median", format_probability(summary.median)),
        ("Middle half", f"{format_probability(summary.q1)} – {format_probability(summary.q3)}"),
        ("Geometric mean of odds", format_probability(summary.geometric_mean_odds)),
        ("Above 10%", f"{summary.share_above_threshold:.0%}"),
    ]


# Histogram edges, evenly spread in log-odds from 0.01% to 99.99%.
BIN_EDGES: tuple[float, ...] = (MIN_P, 0.001, 0.01, 0.03, 0.1, 0.25, 0.5, 0.75, 0.9, 0.97, 0.99, 0.999, MAX_P)


@dataclass(frozen=True, slots=True)
class Bin:
    """A histogram bin [low, high) and how many members answered in it."""

    low: float
    high: float
    count: int


def histogram(values: Sequence[float], edges: Sequence[float] = BIN_EDGES) -> list[Bin]:
    """Count values into bins; the last bin includes its upper edge."""
    counts = [0] * (len(edges) - 1)
    for value in values:
        for index in range(len(counts)):
            last = index == len(counts) - 1
            if edges[index] <= value < edges[index + 1] or (last and value == edges[-1]):
                counts[index] += 1
                break
    return [Bin(edges[i], edges[i + 1], counts[i]) for i in range(len(counts))]


def private_bins(values: Sequence[float], min_count: int = MIN_BIN_COUNT) -> list[Bin]:
    """Return histogram bins safe to publish: every bin with members has at least `min_count` of them.

    A small bin is merged into its smaller neighbour until none is left, so nobody's answer can be singled
    out. With fewer than `min_count` answers in total, nothing is published.
    """
    if len(values) < min_count:
        return []
    bins = histogram(values)
    while small := [i for i, b in enumerate(bins) if 0 < b.count < min_count]:
        index = small[0]
        # Merge the span up to the nearest bin that has members (the fuller one if both are as near).
        left = next((j for j in range(index - 1, -1, -1) if bins[j].count), None)
        right = next((j for j in range(index + 1, len(bins)) if bins[j].count), None)
        candidates = [j for j in (left, right) if j is not None]
        target = min(candidates, key=lambda j: (abs(j - index), -bins[j].count, j))
        low, high = min(index, target), max(index, target)
        bins[low : high + 1] = [Bin(bins[low].low, bins[high].high, sum(b.count for b in bins[low : high + 1]))]
    return bins


@dataclass(frozen=True, slots=True)
class PollSettings:
    """A server's poll settings."""

    guild_id: int
    min_respondents: int = DEFAULT_MIN_RESPONDENTS


def respondents_text(respondents: int) -> str:
    """Say how many members answered."""
    return "1 member answered" if respondents == 1 else f"{respondents} members answered"


@dataclass(frozen=True, slots=True)
class PublicResults:
    """What anyone may see of a round: how many answered always; aggregates and bins only with enough of them."""

    respondents: int
    minimum: int
    summary: Summary | None
    bins: tuple[Bin, ...] = ()

    @property
    def withheld(self) -> bool:
        """Whether members answered but too few for their aggregate to be shown."""
        return self.respondents > 0 and self.summary is None

    @property
    def reason(self) -> str:
        """Explain why the aggregate is withheld, e.g. "3 members answered; results are shown from 5, …"."""
        return (
            f"{respondents_text(self.respondents)}; results are shown from {self.minimum}, "
            "so nobody's answer can be worked out."
        )


def effective_minimum(minimum: int) -> int:
    """Return the respondents a round needs before its aggregates are shown (a setting never goes below the floor)."""
    return max(minimum, MIN_RESPONDENTS_FLOOR)


def public_results(values: Sequence[float], minimum: int = DEFAULT_MIN_RESPONDENTS) -> PublicResults:
    """Return what may be published of a round's answers: no aggregate at all below the minimum respondents."""
    minimum = effective_minimum(minimum)
    if len(values) < minimum:
        return PublicResults(len(values), minimum, None)
    return PublicResults(len(values), minimum, summarize(values), tuple(private_bins(values)))


@dataclass(frozen=True, slots=True)
class RoundPoint:
    """One round in the history: its public results, and how the members who also answered before moved."""

    number: int
    label: str
    results: PublicResults
    # Median of the previous round and of this one, over members who answered both (None unless enough did).
    same_respondents: tuple[float, float] | None


def history_points(
    rounds: Sequence[tuple[int, str, dict[int, float]]], minimum: int = DEFAULT_MIN_RESPONDENTS
) -> list[RoundPoint]:
    """Build history points from (round number, label, {member: value}) in order, for rounds with answers.

    The "same respondents" pair compares a round with the previous one using only members who answered both,
    which separates minds changing from the crowd changing. It is a published aggregate too, so it needs as many
    members as a round's results do.
    """
    minimum = effective_minimum(minimum)
    points: list[RoundPoint] = []
    previous: dict[int, float] = {}
    for number, label, answers in rounds:
        if answers:
            both = answers.keys() & previous.keys()
            pair = (
                (statistics.median(previous[m] for m in both), statistics.median(answers[m] for m in both))
                if len(both) >= minimum
                else None
            )
            points.append(RoundPoint(number, label, public_results(list(answers.values()), minimum), pair))
        previous = answers
    return points


@dataclass(frozen=True, slots=True)
class PollRound:
    """A poll round as stored."""

    id: int
    guild_id: int
    number: int
    channel_id: int
    message_id: int | None
    question: str
    doom_definition: str
    horizon: str
    show_results_early: bool
    opened_by: int
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    results_message_id: int | None  # the public results post, once it is posted and recorded
    poll_message_closed: bool = False  # the poll message shows the closed state (the last step of a close)
    results_refused: bool = False  # Discord refused the results post for good (channel gone, permission missing)

    @property
    def is_open(self) -> bool:
        """Whether the round still takes answers."""
        return self.closed_at is None

    @property
    def results_settled(self) -> bool:
        """Whether the results post is done with: posted and recorded, or refused by Discord for good."""
        return self.results_message_id is not None or self.results_refused

    @property
    def close_finished(self) -> bool:
        """Whether every step of closing the round is done: closed, results settled, poll message edited."""
        return self.closed_at is not None and self.results_settled and self.poll_message_closed


@dataclass(frozen=True, slots=True)
class Submission:
    """One estimate a member submitted, for showing them their own history."""

    round_number: int
    value: float
    raw: str
    submitted_at: datetime


class RoundClosed(UserFacingError):
    """The round no longer takes answers."""

    default_message = "This round has closed, so it no longer takes answers. `/pdoom results` shows how it ended."

    def __init__(self, number: int | None = None) -> None:
        super().__init__(
            None
            if number is None
            else f"Round {number} has closed, so it no longer takes answers. `/pdoom results` shows how it ended."
        )


class RoundAlreadyOpen(UserFacingError):
    """The server already has an open round."""

    default_message = "A round is already open in this server; close it with `/pdoom-admin close` first."
