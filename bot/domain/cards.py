"""Cards for browsing content: the guided tour, step listings, reading lists, search results and shared cards.

Also how often one member may share a card publicly (`Cooldown`), which is pure bookkeeping over the bot's clock,
and the sentences members read when a lookup or a share is refused.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.card import EMBED_DESCRIPTION_LIMIT, EMBED_TITLE_LIMIT, Card
from bot.domain.content import (
    READING_LEVELS,
    SHARE_CREDIT_RESERVE,
    Concept,
    ContentStore,
    OutlinePoint,
    OutlineStep,
    ReadingLevel,
    concept_card,
    reading_line,
)
from bot.domain.search import SearchHit
from bot.domain.text import escape_markdown, pack_lines, truncate
from bot.errors import UserFacingError


@dataclass(frozen=True, slots=True)
class TourPage:
    """One page of the guided tour: a point of one step of the essay's argument."""

    step_number: int
    step: OutlineStep
    point: OutlinePoint


def tour_pages(store: ContentStore) -> list[TourPage]:
    """Flatten the outline into pages, one per point, in the essay's order."""
    return [TourPage(n, step, point) for n, step in enumerate(store.steps, start=1) for point in step.points]


def tour_card(store: ContentStore, page: int) -> tuple[Card, int, int]:
    """Render tour page `page` (clamped into range); return the card, the page used and the page count."""
    pages = tour_pages(store)
    if not pages:
        return Card(title="The tour is empty", description="No essay outline is loaded."), 0, 0
    page = min(max(page, 0), len(pages) - 1)
    current = pages[page]
    first_of_step = page == 0 or pages[page - 1].step is not current.step
    intro = f"{current.step.summary}\n\n" if first_of_step else ""
    concepts = [store.concepts[c].title for c in current.point.concepts if c in store.concepts]
    card = Card(
        title=truncate(f"Step {current.step_number}: {current.step.title}", EMBED_TITLE_LIMIT),
        description=f"{intro}**{current.point.title}**\n{current.point.summary}",
        fields=(("Concepts to explore", ", ".join(concepts) or "—"),),
        footer=f"Page {page + 1} of {len(pages)} · open any concept with /concept",
    )
    return card, page, len(pages)


def concepts_in_step(store: ContentStore, step_id: str) -> list[Concept]:
    """Return the concepts of a step, in outline order first, then any others that name the step."""
    step = next((s for s in store.steps if s.id == step_id), None)
    ordered: list[str] = []
    for point in step.points if step else ():
        ordered += [c for c in point.concepts if c not in ordered]
    ordered += sorted(c.id for c in store.concepts.values() if c.step == step_id and c.id not in ordered)
    return [store.concepts[c] for c in ordered if c in store.concepts and store.concepts[c].step == step_id]


def first_sentence(text: str, limit: int = 140) -> str:
    """Return the first sentence of `text`, truncated to `limit` characters."""
    end = text.find(". ")
    return truncate(text if end == -1 else text[: end + 1], limit)


def steps_overview_card(store: ContentStore) -> Card:
    """List the essay's steps with how many concepts each has."""
    lines = [
        f"**{n}. {step.title}** — {len(concepts_in_step(store, step.id))} concepts"
        for n, step in enumerate(store.steps, start=1)
    ]
    return Card(
        title="Concepts by step of the argument",
        description="\n".join(lines) or "No outline is loaded.",
        footer="Pick a step with /concepts step:, or take the guided tour with /tour",
    )


def step_card(store: ContentStore, step_id: str) -> Card:
    """List one step's concepts, each with its first sentence."""
    step = next(s for s in store.steps if s.id == step_id)
    lines = [f"**{c.title}** — {first_sentence(c.summary)}" for c in concepts_in_step(store, step_id)]
    description = pack_lines([step.summary, "", *lines], EMBED_DESCRIPTION_LIMIT)[0]
    return Card(
        title=truncate(step.title, EMBED_TITLE_LIMIT), description=description, footer="Open one with the menu below"
    )


def readings_card(store: ContentStore, concept: Concept | None, level: ReadingLevel | None, limit: int = 15) -> Card:
    """List readings, optionally for one concept and/or one level, easiest first."""
    readings = store.readings_for(concept) if concept else list(store.readings.values())
    if level:
        readings = [r for r in readings if r.level == level]
    readings.sort(key=lambda r: (READING_LEVELS.index(r.level), r.title.casefold()))
    scope = f" for {concept.title}" if concept else ""
    scope += f" ({level})" if level else ""
    if not readings:
        return Card(title=f"Readings{scope}", description="No readings match; try another level or concept.")
    shown = readings[:limit]
    description = pack_lines([f"• {reading_line(r)}" for r in shown], EMBED_DESCRIPTION_LIMIT)[0]
    more = f" · {len(readings) - len(shown)} more: narrow by concept or level" if len(readings) > len(shown) else ""
    return Card(title=f"Readings{scope}", description=description, footer=f"{len(readings)} readings{more}")


def search_card(query: str, hits: list[SearchHit]) -> Card:
    """List search results with their snippets."""
    title = truncate(f"Search: {escape_markdown(query)}", EMBED_TITLE_LIMIT)
    if not hits:
        return Card(title=title, description="Nothing matched. Try fewer or different words, or /concept for names.")
    lines = [f"**{hit.title}** ({hit.kind})\n{truncate(hit.snippet, 300)}" for hit in hits]
    return Card(title=title, description=pack_lines(lines, EMBED_DESCRIPTION_LIMIT)[0])


def unknown_step_text(step: str, step_ids: list[str]) -> str:
    """Tell a member there is no such step, listing the ones there are."""
    return f"There is no step called {truncate(step, 60)!r}. Pick one of: {', '.join(step_ids)}."


def reading_share_key(concept: Concept | None, level: ReadingLevel | None) -> str:
    """Return the Share key of a reading list: `<concept id>.<level>`, either part possibly empty."""
    return f"{concept.id if concept else ''}.{level or ''}"


def shared_card(store: ContentStore, kind: str, key: str) -> Card:
    """Re-render the card a Share button of `kind` with `key` stands for, as the store now has it."""
    if kind == "concept":
        concept = store.concepts.get(key)
        if concept is None:
            raise UserFacingError("That concept is no longer in the library.")
        return concept_card(concept, store)
    if kind == "tour":
        return tour_card(store, int(key))[0]
    if kind == "step":
        if not any(s.id == key for s in store.steps):
            raise UserFacingError("That step is no longer in the outline.")
        return step_card(store, key)
    concept_id, _, level = key.partition(".")
    concept = store.concepts.get(concept_id) if concept_id else None
    return readings_card(store, concept, next((lv for lv in READING_LEVELS if lv == level), None))


def shared_by(card: Card, name: str) -> Card:
    """Credit a publicly shared card to the member who shared it, in the room every card keeps for this line."""
    return dataclasses.replace(card, author=truncate(f"Shared by {name}", SHARE_CREDIT_RESERVE))


def share_refused_text(missing: list[str]) -> str:
    """Tell a member which of their permissions posting a card in this channel needs."""
    return f"You can't share here: posting a card in this channel needs {' and '.join(missing)}, which you don't have."


def share_wait_text(wait: timedelta) -> str:
    """Tell a member how long until they may share another card."""
    return f"Slow down a little: you can share another card in {math.ceil(wait.total_seconds())} s."


# One public card per member this often: enough to share what a discussion needs, too slow to flood a channel.
SHARE_COOLDOWN = timedelta(seconds=30)


class Cooldown:
    """At most one use per key every `period`; remembers only keys used within the last period."""

    def __init__(self, period: timedelta) -> None:
        self.period = period
        # Key -> time of its last use, oldest first (a key is moved to the end when used again).
        self._last_use: dict[int, datetime] = {}

    def try_use(self, key: int, now: datetime) -> timedelta | None:
        """Record a use by `key` at `now` and return None, or return how long `key` must still wait."""
        last = self._last_use.get(key)
        if last is not None and now - last < self.period:
            # min(): a clock that stepped backwards must not make anyone wait longer than one period.
            return min(self.period - (now - last), self.period)
        self._forget_before(now - self.period)
        self._last_use.pop(key, None)
        self._last_use[key] = now
        return None

    def _forget_before(self, moment: datetime) -> None:
        """Drop uses older than `moment`, so memory stays bounded by the keys active in one period."""
        while self._last_use:
            key, used = next(iter(self._last_use.items()))
            if used >= moment:
                break
            del self._last_use[key]

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._last_use)
