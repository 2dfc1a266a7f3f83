"""How P(Doom) polls and results read: the poll message, results, a member's own history, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.card import Card
from bot.domain.content import ReferenceEstimate
from bot.domain.pdoom import (
    MIN_BIN_COUNT,
    PollRound,
    PollSettings,
    PublicResults,
    RoundPoint,
    Submission,
    describe_summary,
    format_probability,
    public_results,
)
from bot.domain.text import pack_lines, truncate

DEFAULT_QUESTION = "What is your P(doom)?"
DEFAULT_DEFINITION = "misaligned AI kills or permanently disempowers more or less everyone"
DEFAULT_HORIZON = "within this century"


def discord_time(moment_timestamp: float, style: str = "R") -> str:
    """Format a Unix time as Discord's <t:...> markup, which every member sees in their own time zone."""
    return f"<t:{int(moment_timestamp)}:{style}>"


def poll_card(poll: PollRound, respondents: int, results: PublicResults | None = None) -> Card:
    """Render the poll message: the question, what counts as doom, the horizon, and the live count.

    `results` (the round's public results) are shown only once the round is closed.
    """
    lines = [
        f"**Doom means:** {poll.doom_definition}",
        f"**Time frame:** {poll.horizon}",
        "",
        "Pick the range that holds your estimate, or type an exact value. Only you see your answer.",
    ]
    if poll.closes_at is not None and poll.is_open:
        lines.append(f"Closes {discord_time(poll.closes_at.timestamp())}.")
    fields = [("Respondents", str(respondents))]
    if poll.is_open:
        # Everyone sees this message, answered or not, so it never shows an aggregate before the close.
        hint = "After you answer, you'll see where everyone stands." if poll.show_results_early else "At the close."
        fields.append(("Results", hint))
    else:
        closed = "This round is closed: the results are posted below."
        if results is not None and results.withheld:
            closed = f"This round is closed. {results.reason}"
        lines = [*lines[:2], "", closed]
        if results is not None and results.summary is not None:
            fields += [(label, value) for label, value in describe_summary(results.summary)[1:]]
    return Card(
        title=truncate(f"P(doom) round {poll.number}: {poll.question}", 256),
        description="\n".join(lines),
        fields=tuple(fields),
        footer="Answering again replaces your answer; /pdoom mine shows your history, /pdoom forget deletes it.",
    )


def references_text(estimates: Sequence[ReferenceEstimate], limit: int = 1024) -> str:
    """List published estimates with their sources, within an embed field's limit."""
    lines = [
        f"• {e.who} ({e.year}): {format_probability(e.value)} — [{truncate(e.stated, 60)}]({e.source})"
        for e in sorted(estimates, key=lambda e: e.value)
    ]
    return pack_lines(lines, limit)[0] if lines else ""


def results_title(poll: PollRound) -> str:
    """Return the title of a round's results, which also identifies an earlier results post."""
    return truncate(f"P(doom) round {poll.number} results: {poll.question}", 256)


def results_card(poll: PollRound, results: PublicResults, estimates: Sequence[ReferenceEstimate]) -> Card:
    """Render a round's public results: the aggregates (or why they are withheld), and published estimates."""
    title = results_title(poll)
    if results.respondents == 0:
        return Card(title=title, description="Nobody answered this round.")
    state = "Final results" if not poll.is_open else "Results so far"
    description = f"{state}. Doom means: {poll.doom_definition}; {poll.horizon}."
    fields = [("Respondents", str(results.respondents))]
    if results.summary is None:
        description += f"\n\n{results.reason}"
    else:
        fields = list(describe_summary(results.summary))
    if estimates:
        fields.append(("Published estimates, for comparison", references_text(estimates)))
    return Card(
        title=title,
        description=description,
        fields=tuple(fields),
        footer=(
            f"Individual answers are never shown: results need {results.minimum} respondents, "
            f"and chart bins with fewer than {MIN_BIN_COUNT} members are merged."
        ),
    )


def so_far_text(results: PublicResults) -> str:
    """Tell a member who just answered where everyone stands (only in rounds that show results early)."""
    if results.summary is None:
        return f"So far: {results.reason}"
    summary = results.summary
    return (
        f"So far: median **{format_probability(summary.median)}**, middle half "
        f"{format_probability(summary.q1)}–{format_probability(summary.q3)}, {summary.n} member(s)."
    )


def history_lines(points: Sequence[RoundPoint]) -> list[str]:
    """Describe each round of the history in one line: its median and middle half, or why they are withheld."""
    lines = []
    for point in points:
        summary = point.results.summary
        head = f"**Round {point.number}** ({point.label}): "
        if summary is None:
            lines.append(head + point.results.reason)
            continue
        line = (
            f"median {format_probability(summary.median)}, middle half "
            f"{format_probability(summary.q1)}–{format_probability(summary.q3)}, n={summary.n}"
        )
        if point.same_respondents is not None:
            before, after = point.same_respondents
            line += (
                f"; members who also answered the round before: median {format_probability(before)} → "
                f"{format_probability(after)}"
            )
        lines.append(head + line)
    return lines


def settings_text(settings: PollSettings) -> str:
    """Describe a server's poll settings."""
    return (
        f"Poll results in this server are shown from **{settings.min_respondents}** respondents; below that, only "
        "the count is shown, so nobody's answer can be worked out."
    )


def submissions_text(submissions: Sequence[Submission]) -> str:
    """List a member's own estimates, newest round first."""
    by_round: dict[int, list[Submission]] = {}
    for item in submissions:
        by_round.setdefault(item.round_number, []).append(item)
    lines = []
    for number in sorted(by_round, reverse=True):
        items = by_round[number]
        latest = items[-1]
        earlier = ", ".join(format_probability(s.value) for s in items[:-1])
        change = f" (earlier: {earlier})" if earlier else ""
        lines.append(f"**Round {number}:** {format_probability(latest.value)}{change} · {latest.submitted_at:%Y-%m-%d}")
    return pack_lines(lines, 4000)[0] if lines else "You haven't answered any round in this server."


# A spreadsheet treats a cell starting with one of these as a formula; user text (the question) must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Return a CSV cell that spreadsheets show as text: a leading formula character gets a ' before it."""
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def export_csv(rounds: Sequence[PollRound], answers_by_round: dict[int, dict[int, float]], minimum: int) -> str:
    """Aggregate results per round as CSV: no individual answers; aggregate cells stay empty below `minimum`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "round",
            "question",
            "opened_at",
            "closed_at",
            "respondents",
            "median",
            "q1",
            "q3",
            "geometric_mean_odds",
            "share_above_10pct",
            "histogram",
        ]
    )
    for poll in rounds:
        results = public_results(list(answers_by_round.get(poll.id, {}).values()), minimum)
        summary = results.summary
        numbers = (
            [summary.median, summary.q1, summary.q3, summary.geometric_mean_odds, summary.share_above_threshold]
            if summary is not None
            else []
        )
        stats = [f"{x:.6g}" for x in numbers] or [""] * 5
        bins = "; ".join(f"{b.low:.4g}-{b.high:.4g}:{b.count}" for b in results.bins if b.count)
        closed = poll.closed_at.isoformat() if poll.closed_at else ""
        row = [poll.number, poll.question, poll.opened_at.isoformat(), closed, results.respondents, *stats, bins]
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()
