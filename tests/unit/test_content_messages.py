"""What content admins see: error lists and edit previews within Discord's limits, with uploaded text kept as data."""

from pathlib import Path

from bot.domain.card import EMBED_DESCRIPTION_LIMIT, EMBED_TITLE_LIMIT, EMBED_TOTAL_LIMIT, Card
from bot.domain.content import ContentError, ContentStore
from bot.domain.content_edit import StagedEdit
from bot.domain.content_loader import load_content
from bot.domain.content_messages import (
    describe_change,
    edit_preview_card,
    errors_card,
    reloaded_text,
    saved_text,
    upload_errors_card,
)

STORE = load_content(Path(__file__).resolve().parents[1] / "fixtures" / "content" / "valid")


def within_limits(card: Card) -> bool:
    """Whether the card fits Discord's title, description and total limits."""
    return (
        len(card.title) <= EMBED_TITLE_LIMIT
        and len(card.description) <= EMBED_DESCRIPTION_LIMIT
        and card.total_length() <= EMBED_TOTAL_LIMIT
    )


def edit(old: str | None, new: str, relative: str = "concepts/king-midas.yaml") -> StagedEdit:
    """Stage an edit of `relative` from `old` to `new`, leading to the fixture store."""
    return StagedEdit(relative, Path("/nowhere") / relative, old, new, STORE)


def test_errors_card_lists_every_error_in_an_error_tone() -> None:
    """Errors are listed one per line, in the error tone, and the footer says nothing changed."""
    errors = [ContentError("content/readings.yaml", 3, "readings[0].url", "must start with https://")]
    card = errors_card("The content has errors", errors)
    assert card.tone == "error"
    assert card.description == r"• content/readings.yaml:3: readings\[0\].url: must start with https://"
    assert card.footer is not None and card.footer.startswith("1 error(s). Nothing was changed")


def test_many_long_errors_are_cut_and_counted() -> None:
    """Hundreds of errors quoting huge values fit one card, ending with how many were left out."""
    errors = [ContentError(f"content/concepts/c{i}.yaml", i, "summary", "x" * 2000) for i in range(500)]
    card = errors_card("The content has errors", errors)
    assert within_limits(card)
    last = card.description.splitlines()[-1]
    shown = len(card.description.splitlines()) - 1
    assert last.startswith(f"…and {500 - shown} more")


def test_upload_errors_card_keeps_a_hostile_file_name_as_data() -> None:
    """A 1,000-character file name full of markdown and a mention is escaped and cut; the title still says why."""
    name = "**" + "<@123>" * 200 + "**.yaml"
    card = upload_errors_card(name, [ContentError("content/concepts/x.yaml", None, "id", "must match")])
    assert within_limits(card)
    assert card.title.startswith(r"\*\*\<@123>") and card.title.endswith(" would break the content")
    assert "**" not in card.title.replace(r"\*", "")


def test_edit_preview_shows_the_diff_and_the_change_in_counts() -> None:
    """A changed file previews as a unified diff in a code block, with the counts after saving."""
    card = edit_preview_card(edit("title: Old\n", "title: New\n"), ContentStore.empty())
    assert card.title == r"Change to concepts/king-midas.yaml"
    assert card.description.startswith("```diff\n") and card.description.endswith("\n```")
    assert "-title: Old\n+title: New" in card.description
    assert (
        card.footer == "After saving: 3 concepts (+3), 4 readings (+4), 2 steps (+2), 1 estimates (+1), 1 prompts (+1)"
    )
    assert edit_preview_card(edit(None, "x\n"), STORE).title.startswith("New file ")


def test_edit_preview_keeps_uploaded_text_inside_its_code_block() -> None:
    """Backticks in the uploaded text cannot close the diff's code block, and a huge diff is cut to fit."""
    card = edit_preview_card(edit("a\n", "```\n@everyone **x**\n```\n" * 2000), STORE)
    assert within_limits(card)
    assert card.description.count("```") == 2


def test_describe_change_and_replies() -> None:
    """Counts are summarised with their changes; the short replies say what happened."""
    assert describe_change(STORE, STORE) == "3 concepts, 4 readings, 2 steps, 1 estimates, 1 prompts"
    assert reloaded_text("3 concepts") == "Reloaded: 3 concepts."
    assert saved_text("readings.yaml", "4 readings", backup=True) == (
        "Saved `readings.yaml` and reloaded: 4 readings. The previous version is kept as `readings.yaml.bak`."
    )
    assert saved_text("readings.yaml", "4 readings", backup=False) == "Saved `readings.yaml` and reloaded: 4 readings."
