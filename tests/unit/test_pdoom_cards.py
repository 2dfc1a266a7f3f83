"""How P(Doom) results read: withheld aggregates in small rounds, and a CSV export that spreadsheets can't run."""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

import discord.utils
import pytest

from bot.domain.card import EMBED_DESCRIPTION_LIMIT, Card
from bot.domain.pdoom import (
    Estimate,
    PollRound,
    RoundAlreadyOpen,
    Submission,
    history_points,
    parse_estimate,
    public_results,
)
from bot.domain.pdoom_cards import (
    close_reply,
    csv_cell,
    early_results_refusal,
    escape_markdown,
    export_csv,
    export_note,
    history_card,
    history_lines,
    legacy_results_title,
    mine_card,
    no_round_text,
    poll_card,
    results_card,
    results_marker,
    round_history,
    so_far_text,
    vote_receipt,
)

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


def test_results_card_shows_the_chart_only_when_one_is_attached() -> None:
    """The results card's picture is the attached pdoom.png, and there is none without a chart."""
    results = public_results(list(FIVE.values()))
    assert results_card(make_round(), results, (), chart=True).image == "pdoom.png"
    assert results_card(make_round(), results, ()).image is None


def test_results_are_marked_by_a_button_id_and_older_posts_by_their_frozen_title() -> None:
    """The marker is the button's custom_id (per round, within Discord's 100 characters); the old title stays fixed."""
    assert results_marker(42) == "align:pdoom:mine:42" and len(results_marker(2**63)) <= 100
    poll = make_round(3, question="Will we make it?")
    assert legacy_results_title(poll) == "P(doom) round 3 results: Will we make it?"
    assert len(legacy_results_title(make_round(question="x" * 300))) == 256


def test_history_card_keeps_the_newest_rounds_within_the_limit() -> None:
    """History shows a line per round with history.png when drawn; when too long, the newest rounds are kept."""
    points = history_points([(n, "Nov 2026", FIVE) for n in range(1, 80)])
    card = history_card(points, chart=True)
    assert card.title == "P(doom) across rounds" and card.image == "history.png"
    assert len(card.description) <= EMBED_DESCRIPTION_LIMIT
    lines = card.description.splitlines()
    assert lines[-1].startswith("**Round 79**") and not lines[0].startswith("**Round 1**")
    assert history_card(points[:2]).description == "\n".join(history_lines(points[:2]))
    assert history_card(points[:2]).image is None


def test_round_history_covers_closed_rounds_labelled_by_month() -> None:
    """Only closed rounds are in the history, each labelled with the month it opened."""
    rounds = [make_round(1), make_round(2, closed=False)]
    points = round_history(rounds, {1: FIVE, 2: FIVE}, 5)
    assert [(p.number, p.label) for p in points] == [(1, "Nov 2026")]


def test_mine_card_lists_the_members_own_estimates() -> None:
    """The member's latest estimate per round, with earlier ones, newest round first."""
    subs = [
        Submission(1, 0.03, "1-5%", OPENED),
        Submission(1, 0.375, "25-50%", OPENED),
        Submission(2, 0.1, "10", OPENED),
    ]
    card = mine_card(subs)
    assert card.title == "Your P(doom) estimates"
    assert card.description.splitlines() == [
        "**Round 2:** 10% · 2026-11-27",
        "**Round 1:** 37.5% (earlier: 3%) · 2026-11-27",
    ]
    assert "haven't answered" in mine_card([]).description


@pytest.mark.parametrize(
    ("typed", "source", "expected"),
    [
        ("10-25%", "button", "Recorded your estimate for round 2: **17.5%**."),
        ("1 in 30", "typed", "Recorded your estimate for round 2: **3.3%**. (You wrote “1 in 30”.)"),
        ("15%", "typed", "Recorded your estimate for round 2: **15%**."),
        (
            "100%",
            "typed",
            "Recorded your estimate for round 2: **99.99%**. (You wrote “100%”.)\n"
            "Recorded as 99.99%: certainty isn't on the scale, so the extremes are capped.",
        ),
    ],
)
def test_vote_receipt(typed: str, source: str, expected: str) -> None:
    """The receipt gives the value, what was typed (escaped) when it reads differently, and any note."""
    assert vote_receipt(2, parse_estimate(typed), source) == expected


def test_vote_receipt_shows_typed_markdown_as_typed() -> None:
    """What the member typed is shown escaped, so it reads as typed instead of as formatting."""
    receipt = vote_receipt(2, Estimate(0.2, "*20*"), "typed")
    assert receipt == "Recorded your estimate for round 2: **20%**. (You wrote “\\*20\\*”.)"


def test_vote_receipt_says_where_everyone_stands_when_the_round_shows_it() -> None:
    """In a round that shows results early, the receipt ends with the so-far line."""
    so_far = public_results([0.1])
    assert vote_receipt(1, parse_estimate("10%"), "button", so_far).endswith("\n" + so_far_text(so_far))


@pytest.mark.parametrize("text", ["*bold* _x_ ~s~ `c` |s|", "- 10%", "> 5", "# 5", "[a](http://x_y.com)", "a\\b"])
def test_escape_markdown_matches_discord(text: str) -> None:
    """The domain's escaping gives what discord.utils.escape_markdown gives."""
    assert escape_markdown(text) == discord.utils.escape_markdown(text)


def test_close_replies() -> None:
    """/pdoom-admin close answers from the round's state: posted, refused, or retrying (and why)."""
    where = "<#10>"
    poll = make_round(1)
    assert (
        close_reply(replace(poll, results_message_id=5)) == f"Round 1 is closed and its results are posted in {where}."
    )
    refused = close_reply(replace(poll, results_refused=True))
    assert refused.startswith(f"Round 1 is closed, but Discord refused its results post in {where}")
    assert refused.endswith("`/pdoom results` shows them.")
    assert close_reply(poll, discord_busy=True) == (
        f"Round 1 is closed. Discord didn't take the results post just now; I'll keep trying and post them in {where}."
    )
    assert close_reply(poll, error_code="AB12") == (
        "Round 1 is closed, but finishing it failed just now (error AB12); "
        f"I'll keep trying, and its results will be in {where}."
    )


def test_early_results_refusals() -> None:
    """An open round's results are refused unless it shows them early and the member answered; closed ones never."""
    hidden = make_round(closed=False)
    early = replace(hidden, show_results_early=True)
    assert (
        early_results_refusal(hidden, answered=True)
        == "Round 1 shows its results when it closes, so nobody is anchored."
    )
    assert early_results_refusal(early, answered=False) == (
        "Answer round 1 first; then you can see where everyone stands."
    )
    assert early_results_refusal(early, answered=True) is None
    assert early_results_refusal(make_round(), answered=False) is None


def test_short_replies_name_the_right_commands() -> None:
    """Replies name /pdoom-admin for the admin commands, and say what the export holds."""
    assert "`/pdoom-admin close`" in str(RoundAlreadyOpen())
    assert export_note(7) == (
        "Aggregates only: no individual answers are included, and rounds with fewer than 7 respondents show only "
        "their count."
    )
    assert no_round_text(4) == "There is no round 4 in this server." and no_round_text(None) == "No round yet."
