"""How P(Doom) polls and results read: the poll message, results, a member's own history, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.content import Card, ReferenceEstimate
from bot.domain.pdoom import (
    PollRound,
    Submission,
    Summary,
    describe_summary,
    format_probability,
    private_bins,
    summarize,
)
from bot.domain.text import pack_lines, truncate

DEFAULT_QUESTION = "What is your P(doom)?"
DEFAULT_DEFINITION = "misaligned AI kills or permanently disempowers more or less everyone"
DEFAULT_HORIZON = "within this century"


def discord_time(moment_timestamp: float, style: str = "R") -> str:
    """Format a Unix time as Discord's <t:...> markup, which every member sees in their own time zone."""
    return f"<t:{int(moment_timestamp)}:{style}>"


def poll_card(poll: PollRound, respondents: int, summary: Summary | None) -> Card:
    """Render the poll message: the question, what counts as doom, the horizon, and the live count."""
    lines = [
        f"**Doom means:** {poll.doom_definition}",
        f"**Time frame:** {poll.horizon}",
        "",
        "Pick the range that holds your estimate, or type an exact value. Only you see your answer.",
    ]
    if poll.closes_at is not None and poll.is_open:
        lines.append(f"Closes {discord_time(poll.closes_at.timestamp())}.")
    if not poll.is_open:
        lines = [*lines[:2], "", "This round is closed: the results are posted below."]
    fields = [("Respondents", str(respondents))]
    if poll.is_open:
        # Everyone sees this message, answered or not, so it never shows an aggregate before the close.
        hint = "After you answer, you'll see where everyone stands." if poll.show_results_early else "At the close."
        fields.append(("Results", hint))
    elif summary is not None:
        fields += [(label, value) for label, value in describe_summary(summary)[1:]]
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


def results_card(poll: PollRound, answers: Sequence[float], estimates: Sequence[ReferenceEstimate]) -> Card:
    """Render a round's results: the aggregates, and published estimates for comparison."""
    summary = summarize(answers)
    title = truncate(f"P(doom) round {poll.number} results: {poll.question}", 256)
    if summary is None:
        return Card(title=title, description="Nobody answered this round.")
    fields = list(describe_summary(summary))
    if estimates:
        fields.append(("Published estimates, for comparison", references_text(estimates)))
    state = "Final results" if not poll.is_open else "Results so far"
    chart = "" if private_bins(answers) else " (a chart needs at least 3 answers)"
    return Card(
        title=title,
        description=f"{state}. Doom means: {poll.doom_definition}; {poll.horizon}.{chart}",
        fields=tuple(fields),
        footer="Individual answers are never shown; chart bins with fewer than 3 members are merged.",
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


def export_csv(rounds: Sequence[PollRound], answers_by_round: dict[int, dict[int, float]]) -> str:
    """Aggregate results per round as CSV: no individual answers, only bins with at least 3 members."""
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
        values = list(answers_by_round.get(poll.id, {}).values())
        summary = summarize(values)
        bins = "; ".join(f"{b.low:.4g}-{b.high:.4g}:{b.count}" for b in private_bins(values) if b.count)
        numbers = (
            (summary.median, summary.q1, summary.q3, summary.geometric_mean_odds, summary.share_above_threshold)
            if summary
            else ()
        )
        stats = [summary.n if summary else 0, *(f"{x:.6g}" for x in numbers)] + [""] * (5 - len(numbers))
        closed = poll.closed_at.isoformat() if poll.closed_at else ""
        writer.writerow([poll.number, poll.question, poll.opened_at.isoformat(), closed, *stats, bins])
    return out.getvalue()
