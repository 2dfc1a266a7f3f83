"""How P(Doom) polls read: the poll message, results, history, a member's own estimates, replies, the CSV export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence

from bot.domain.card import EMBED_DESCRIPTION_LIMIT, EMBED_TITLE_LIMIT, Card
from bot.domain.content import ReferenceEstimate
from bot.domain.pdoom import (
    MIN_BIN_COUNT,
    Estimate,
    PollRound,
    PollSettings,
    PublicResults,
    RoundPoint,
    Submission,
    describe_summary,
    format_probability,
    history_points,
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
    """Return the title of a round's results (free to reword: recovery goes by `results_marker`, not by it)."""
    return truncate(f"P(doom) round {poll.number} results: {poll.question}", EMBED_TITLE_LIMIT)


# The results title of the versions before results posts carried a marker, frozen: recovery recognises their posts
# by it. Never change it, even when `results_title` is reworded.
LEGACY_RESULTS_TITLE = "P(doom) round {number} results: {question}"


def legacy_results_title(poll: PollRound) -> str:
    """Return the title older versions gave a round's results post."""
    return truncate(LEGACY_RESULTS_TITLE.format(number=poll.number, question=poll.question), EMBED_TITLE_LIMIT)


def results_marker(round_id: int) -> str:
    """Return the custom_id of the "My estimates" button under a round's results post, which identifies the post."""
    return f"align:pdoom:mine:{round_id}"


def results_card(
    poll: PollRound, results: PublicResults, estimates: Sequence[ReferenceEstimate], *, chart: bool = False
) -> Card:
    """Render a round's public results: the aggregates (or why they are withheld), and published estimates.

    `chart`: the histogram is sent with the message as pdoom.png, and shown as the card's picture.
    """
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
        image="pdoom.png" if chart else None,
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


def round_history(
    rounds: Sequence[PollRound], answers_by_round: Mapping[int, dict[int, float]], minimum: int
) -> list[RoundPoint]:
    """Build the history of a server's closed rounds (oldest first), each labelled with the month it opened."""
    closed = [poll for poll in rounds if not poll.is_open]
    return history_points(
        [(poll.number, f"{poll.opened_at:%b %Y}", answers_by_round.get(poll.id, {})) for poll in closed], minimum
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


def history_card(points: Sequence[RoundPoint], *, chart: bool = False) -> Card:
    """Render /pdoom history: a line per round, the newest kept when they don't all fit; `chart` shows history.png."""
    kept: list[str] = []
    length = 0
    for line in reversed(history_lines(points)):
        line = truncate(line, EMBED_DESCRIPTION_LIMIT)
        length += len(line) + (1 if kept else 0)
        if length > EMBED_DESCRIPTION_LIMIT:
            break
        kept.insert(0, line)
    return Card(title="P(doom) across rounds", description="\n".join(kept), image="history.png" if chart else None)


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


def mine_card(submissions: Sequence[Submission]) -> Card:
    """Render a member's own estimates (/pdoom mine and the "My estimates" button), shown only to them."""
    return Card(title="Your P(doom) estimates", description=submissions_text(submissions))


# Short private replies. Sentences that name a command name the group it is in now (/pdoom or /pdoom-admin).
POLLS_UNAVAILABLE = "Polls are not available right now; please try again in a minute."
NO_SUCH_POLL = "This poll no longer exists."
NO_OPEN_ROUND = "No round is open in this server."
NO_HISTORY = "No closed round has answers yet; history starts after the first round closes."
NOTHING_TO_EXPORT = "No rounds to export yet."
FORGET_QUESTION = "Delete every P(doom) estimate you gave in this server? This cannot be undone."
NOTHING_FORGOTTEN = "Nothing was deleted."

# discord.utils.escape_markdown's rules, for showing what a member typed (the domain does not import discord):
# markdown characters and line-start markers get a backslash; links are left alone.
_URL = r"(?P<url><[^: >]+:\/[^ >]+>|(?:https?|steam):\/\/[^\s<]+[^<.,:;\"\'\]\s])"
_MARKDOWN = re.compile(rf"(?:{_URL}|(?P<markdown>[_\\~|\*`]|^>(?:>>)?\s|\[.+\]\(.+\)|^#{{1,3}}|^\s*-))", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Return `text` so that Discord shows it as typed instead of as markdown."""
    return _MARKDOWN.sub(lambda match: match["url"] or "\\" + match["markdown"], text)


def vote_receipt(number: int, estimate: Estimate, source: str, so_far: PublicResults | None = None) -> str:
    """Confirm a recorded estimate to the member who gave it.

    It shows the value, what was typed when that reads differently, any note, and where everyone stands (`so_far`,
    only in rounds that show results early).
    """
    shown = format_probability(estimate.value)
    text = f"Recorded your estimate for round {number}: **{shown}**."
    if source == "typed" and estimate.raw != shown:
        text += f" (You wrote “{escape_markdown(estimate.raw)}”.)"
    if estimate.note:
        text += f"\n{estimate.note}"
    if so_far is not None:
        text += f"\n{so_far_text(so_far)}"
    return text


def no_round_text(number: int | None) -> str:
    """Say that the asked-for round (or, without a number, any round) doesn't exist in this server."""
    return f"There is no round {number} in this server." if number is not None else "No round yet."


def early_results_refusal(poll: PollRound, answered: bool) -> str | None:
    """Say why a member may not see a round's results yet, or None if they may.

    An open round shows them only if it shows results early, and then only to members who answered.
    """
    if not poll.is_open:
        return None
    if not poll.show_results_early:
        return f"Round {poll.number} shows its results when it closes, so nobody is anchored."
    if not answered:
        return f"Answer round {poll.number} first; then you can see where everyone stands."
    return None


def opened_text(number: int, link: str) -> str:
    """Tell the admin which round they opened, with a link to its poll."""
    return f"Round {number} is open: {link}"


def close_reply(poll: PollRound, *, discord_busy: bool = False, error_code: str = "") -> str:
    """Answer /pdoom-admin close from the round as it ended up.

    With the results not settled, the close is being retried: `discord_busy` when Discord didn't take the post just
    now, otherwise because of the error `error_code`.
    """
    where = f"<#{poll.channel_id}>"
    if poll.results_refused:
        return (
            f"Round {poll.number} is closed, but Discord refused its results post in {where} (the channel is gone, "
            "I lack permission there, or AutoMod blocked it), so they weren't posted. `/pdoom results` shows them."
        )
    if poll.results_message_id is not None:
        return f"Round {poll.number} is closed and its results are posted in {where}."
    if discord_busy:
        return (
            f"Round {poll.number} is closed. Discord didn't take the results post just now; "
            f"I'll keep trying and post them in {where}."
        )
    return (
        f"Round {poll.number} is closed, but finishing it failed just now (error {error_code}); "
        f"I'll keep trying, and its results will be in {where}."
    )


def forgotten_text(deleted: int) -> str:
    """Say how many estimates /pdoom forget deleted."""
    return f"Deleted {deleted} estimate(s)."


def export_note(minimum: int) -> str:
    """Say what the CSV export holds, sent with the file."""
    return (
        "Aggregates only: no individual answers are included, and rounds with fewer than "
        f"{minimum} respondents show only their count."
    )


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
