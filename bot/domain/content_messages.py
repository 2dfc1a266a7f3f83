"""What content admins are shown: the list of errors, the preview of an edit, and the short replies."""

from __future__ import annotations

from bot.domain.card import EMBED_TITLE_LIMIT, Card
from bot.domain.content import ContentError, ContentStore
from bot.domain.content_edit import StagedEdit
from bot.domain.text import escape_markdown, truncate

# An error list fills the description with room to spare for the "…and N more" line.
ERROR_LIST_LIMIT = 3800
# The longest single error shown; a longer one (a quoted huge value) is cut.
ERROR_LINE_LIMIT = 300
# The diff shown before saving: enough to check an edit, short enough to read on a phone.
DIFF_LIMIT = 1800
CANCELLED = "Cancelled; nothing was changed."
EXPIRED = "This edit expired; upload it again."


def describe_change(before: ContentStore, after: ContentStore) -> str:
    """Summarise how the counts changed, e.g. `34 concepts (+1), 70 readings`."""
    old, new = before.stats(), after.stats()
    parts = []
    for name, count in new.items():
        delta = count - old.get(name, 0)
        parts.append(f"{count} {name}" + (f" ({delta:+d})" if delta else ""))
    return ", ".join(parts)


def format_errors(errors: list[ContentError], limit: int = ERROR_LIST_LIMIT) -> str:
    """List errors one per line within `limit` characters, saying how many were left out.

    Errors quote file names and values from uploaded files, so their markdown is escaped.
    """
    lines: list[str] = []
    used = 0
    for index, error in enumerate(errors):
        line = f"• {truncate(escape_markdown(str(error)), ERROR_LINE_LIMIT)}"
        if used + len(line) + 40 > limit:
            lines.append(f"…and {len(errors) - index} more (run `python -m bot content check` on the host to see all)")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def errors_card(title: str, errors: list[ContentError]) -> Card:
    """List content errors in an error card, saying that members still see the last good content."""
    return Card(
        title=truncate(title, EMBED_TITLE_LIMIT),
        description=format_errors(errors),
        footer=f"{len(errors)} error(s). Nothing was changed; members still see the last good content.",
        tone="error",
    )


def upload_errors_card(file_name: str, errors: list[ContentError]) -> Card:
    """List what is wrong with an uploaded file (its name, chosen by the uploader, is shown as typed)."""
    name = truncate(escape_markdown(file_name), EMBED_TITLE_LIMIT - 40)
    return errors_card(f"{name} would break the content", errors)


def edit_preview_card(edit: StagedEdit, before: ContentStore) -> Card:
    """Show a staged edit as a diff, with how the content's counts will change once it is saved."""
    change = "New file" if edit.old_text is None else "Change to"
    # The diff is the uploader's text: a ``` in it must not close the code block early.
    diff = edit.diff(DIFF_LIMIT).replace("```", "`\u200b`\u200b`")
    return Card(
        title=truncate(f"{change} {escape_markdown(edit.relative)}", EMBED_TITLE_LIMIT),
        description=f"```diff\n{diff}\n```",
        footer=f"After saving: {describe_change(before, edit.store)}",
    )


def reloaded_text(summary: str) -> str:
    """Confirm a reload, with what the content now holds."""
    return f"Reloaded: {summary}."


def saved_text(relative: str, summary: str, *, backup: bool) -> str:
    """Confirm a saved edit, with what the content now holds and where the previous version is kept."""
    kept = f" The previous version is kept as `{relative}.bak`." if backup else ""
    return f"Saved `{relative}` and reloaded: {summary}.{kept}"


def file_sent_text(relative: str) -> str:
    """Introduce a downloaded content file."""
    return f"Here is `{relative}`. Edit it and send it back with `/content put`."


def no_such_file_text(relative: str) -> str:
    """Say a requested content file does not exist."""
    return f"There is no {relative}; pick a file from the suggestions."
