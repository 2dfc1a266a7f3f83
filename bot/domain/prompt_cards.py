"""How the weekly prompts feature looks: the post itself, a suggestion under review, the queue, status and stats."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.card import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    Card,
)
from bot.domain.content import ContentStore, reading_line
from bot.domain.prompt_texts import admin_command, discord_time
from bot.domain.prompts import PostStats, Prompt, PromptStatus, Schedule, describe_schedule
from bot.domain.schedule import load_zone
from bot.domain.text import pack_lines, truncate

PAGE_SIZE = 8  # prompts on one page of the queue list
SUGGEST_BUTTON_LABEL = "Suggest a prompt"
REVIEW_TEXT_LIMIT = 2000


def post_footer(occurrence: str) -> str:
    """Return the visible footer of a post (wording only: posts are found again by their button, not by this)."""
    return f"Weekly prompt · {occurrence}"


def prompt_card(prompt: Prompt, store: ContentStore, occurrence: str) -> Card:
    """Render a prompt as it is posted: the question, its concept in a line, and a reading or two."""
    fields: list[tuple[str, str]] = []
    concept = store.concepts.get(prompt.concept_id) if prompt.concept_id else None
    if concept is not None:
        first = concept.summary.split(". ")[0].rstrip(".") + "."
        fields.append((truncate(f"Background: {concept.title}", 256), truncate(first, 400)))
        readings = store.readings_for(concept)[:2]
        if readings:
            fields.append(("Read more", pack_lines([reading_line(r) for r in readings], EMBED_FIELD_LIMIT)[0]))
    return Card(
        title=truncate(prompt.title or "This week's discussion", EMBED_TITLE_LIMIT),
        description=truncate(prompt.text, 4000),
        fields=tuple(fields),
        footer=post_footer(occurrence),
    )


def review_card(prompt: Prompt, similar: Sequence[tuple[Prompt, float]], author_name: str | None) -> Card:
    """Show a suggestion to reviewers, with any near-duplicates and who suggested it."""
    fields: tuple[tuple[str, str], ...] = ()
    if similar:
        lines = [f"#{p.id} ({score:.0f}%): {truncate(p.text, 120)}" for p, score in similar]
        fields = (("⚠️ Similar to", pack_lines(lines, EMBED_FIELD_LIMIT)[0]),)
    title = f"Suggested prompt #{prompt.id}" + (f": {prompt.title}" if prompt.title else "")
    # Suggestions are at most 1,000 characters; the bounds keep the card within the 6,000 of an embed anyway.
    return Card(
        title=truncate(title, EMBED_TITLE_LIMIT),
        description=truncate(prompt.text, REVIEW_TEXT_LIMIT),
        fields=fields,
        footer=truncate(f"Suggested by {author_name}", 100) if author_name else None,
    )


def page_count(total: int) -> int:
    """Return how many pages the queue list has (at least one, even when empty)."""
    return max(1, -(-total // PAGE_SIZE))


def queue_page_card(prompts: Sequence[Prompt], status: PromptStatus | None, page: int, total: int) -> Card:
    """Show one page (0-based) of a server's prompts, optionally of one status."""
    lines = [
        f"**#{p.id}** [{p.status}] {truncate(p.title or p.text, 80)}" + (f" · {', '.join(p.tags)}" if p.tags else "")
        for p in prompts
    ]
    return Card(
        title=f"Prompts ({status})" if status else "Prompts",
        description=pack_lines(lines, EMBED_DESCRIPTION_LIMIT)[0] if lines else "No prompts here yet.",
        footer=f"Page {page + 1} of {page_count(total)} · {total} prompt(s)",
    )


def status_card(schedule: Schedule, approved_left: int) -> Card:
    """Show a server's schedule: its state, the next post in local and reader's time, the last outcome, the queue."""
    state = "paused" if schedule.paused else ("the next one will be skipped" if schedule.skip_next else "active")
    local = schedule.next_due_at.astimezone(load_zone(schedule.timezone))
    next_post = "—"
    if not schedule.paused:
        next_post = f"{local:%A %d %B %Y, %H:%M} {schedule.timezone}\n{discord_time(schedule.next_due_at)}"
    return Card(
        title="Weekly prompts",
        description=f"{describe_schedule(schedule)} in <#{schedule.channel_id}>, {state}.",
        fields=(
            ("Next post", next_post),
            ("Last outcome", truncate(schedule.last_outcome or "Nothing posted yet", EMBED_FIELD_LIMIT)),
            ("Approved prompts left", str(approved_left)),
        ),
    )


def stats_card(rows: Sequence[PostStats]) -> Card:
    """Show how much discussion each recent prompt got in its first week, newest first."""
    lines = []
    for row in rows:
        name = f"#{row.prompt.id} {truncate(row.prompt.title or row.prompt.text, 60)}" if row.prompt else "#?"
        lines.append(f"**{name}** · {row.post.occurrence}: {row.messages} message(s), {row.participants} member(s)")
    return Card(
        title="Prompt engagement (first week)",
        description=pack_lines(lines, EMBED_DESCRIPTION_LIMIT)[0] if lines else "No prompts have been posted yet.",
        footer=f"Retire prompts that got no discussion with {admin_command('remove')}.",
    )
