"""The content: its models (one per kind of item), the frozen, indexed `ContentStore`, and the concept card.

Layout of the folder:
    concepts/<id>.yaml   one concept per file (the file name is its id)
    readings.yaml        every reading link, referenced by id from concepts
    outline.yaml         the essay's argument as steps and points, for the guided tour
    references.yaml      public figures' published P(Doom) estimates
    prompts.yaml         starter discussion prompts

`bot.domain.content_loader` reads and validates the folder into a store; the concept card is rendered here because
validation checks every card against Discord's limits and the phone budget, so what validates is what gets sent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from bot.domain.card import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    Card,
)
from bot.errors import UserFacingError

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#][^\s<>\"]*)?$")

# How hard a reading is, easiest first: the one definition of the vocabulary (models, /reading's choices, sorting).
ReadingLevel = Literal["intro", "intermediate", "technical"]
READING_LEVELS: tuple[ReadingLevel, ...] = get_args(ReadingLevel)

# The longest field is a concept's summary; the loader refuses a YAML value much longer than this before parsing.
LONGEST_FIELD = 1800

# A concept card's text (links' addresses not counted) fits about two phone screens.
CARD_TEXT_BUDGET = 1700  # cards are written to about 1,600; the margin lets a related title grow
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(https://[^)\s]*\)")
# A shared card gains the author line "Shared by <display name>" (names are at most 32 characters), which counts
# towards the total; cards keep this much room free so sharing never pushes one over the limit.
SHARE_CREDIT_RESERVE = 64


def _check_url(value: str) -> str:
    if not value.startswith("https://"):
        raise ValueError("must start with https://")
    if not _URL.match(value):
        raise ValueError("is not a well-formed URL")
    return value


def _check_words(low: int, high: int) -> Any:
    def check(value: str) -> str:
        count = len(value.split())
        if not value.strip():
            raise ValueError("must not be empty")
        if not low <= count <= high:
            raise ValueError(f"must be {low}-{high} words (it has {count})")
        return value

    return AfterValidator(check)


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=40)]
Url = Annotated[str, AfterValidator(_check_url), Field(json_schema_extra={"format": "uri", "pattern": "^https://"})]


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    """Constraints for a stripped, non-empty string of bounded length."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Text60 = Annotated[str, _text(60)]
Text80 = Annotated[str, _text(80)]
Text100 = Annotated[str, _text(100)]
Text160 = Annotated[str, _text(160)]
Text200 = Annotated[str, _text(200)]
Text300 = Annotated[str, _text(300)]
Text400 = Annotated[str, _text(400)]
Text500 = Annotated[str, _text(500)]
Text700 = Annotated[str, _text(700)]


class ContentModel(BaseModel):
    """Base of every content model."""

    # extra="forbid" turns an admin's typo (`sumary:`) into an error instead of silently ignoring it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(ContentModel):
    """A link to something worth reading, watching or browsing."""

    id: Slug
    title: Text200
    url: Url
    author: Text100
    kind: Literal["paper", "post", "video", "book", "wiki"]
    level: ReadingLevel
    minutes: Annotated[int, Field(ge=1, le=1000)] | None = None


class Concept(ContentModel):
    """One idea from the essay, explained briefly with an example and readings."""

    id: Slug
    title: Text80
    aliases: tuple[Text60, ...] = Field(default=(), max_length=8)
    step: Slug
    # Phone budgets: a card is read on a phone, so its parts are short and each adds something (issue 9).
    summary: Annotated[str, _check_words(45, 90), StringConstraints(max_length=LONGEST_FIELD)]
    key_points: tuple[Text160, ...] = Field(min_length=2, max_length=4)
    example: Text400
    related: tuple[Slug, ...] = Field(default=(), max_length=6)
    readings: tuple[Slug, ...] = Field(min_length=2, max_length=5)


class OutlinePoint(ContentModel):
    """One sub-point of an essay step and the concepts that explain it."""

    title: Text100
    summary: Text500
    concepts: tuple[Slug, ...] = Field(min_length=1, max_length=6)


class OutlineStep(ContentModel):
    """One step of the essay's argument."""

    id: Slug
    title: Text100
    summary: Text700
    points: tuple[OutlinePoint, ...] = Field(min_length=1, max_length=6)


class ReferenceEstimate(ContentModel):
    """A public figure's published P(Doom), as stated, with a numeric midpoint."""

    id: Slug
    who: Text100
    stated: Text200
    value: Annotated[float, Field(gt=0, lt=1)]
    year: Annotated[int, Field(ge=1950, le=2100)]
    source: Url
    note: Text300 | None = None


class StarterPrompt(ContentModel):
    """A discussion question shipped with the bot, imported into a server's prompt queue."""

    id: Slug
    title: Text100 | None = None
    text: Annotated[str, _text(600, min_length=20)]
    concept: Slug
    tags: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=30)], ...] = Field(
        min_length=1, max_length=3
    )


@dataclass(frozen=True, slots=True)
class ContentError:
    """One problem an admin can act on: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ContentInvalid(UserFacingError):
    """The content folder has errors; `errors` lists every one of them (admins see them all in one card)."""

    def __init__(self, errors: list[ContentError]) -> None:
        first = f" The first: {errors[0]}" if errors else ""
        super().__init__(f"The content has {len(errors)} error(s), so nothing was changed.{first}")
        self.errors = errors


@dataclass(frozen=True)
class ContentStore:
    """Validated content, indexed by id. Immutable: a reload builds a new store and swaps the reference."""

    concepts: Mapping[str, Concept]
    readings: Mapping[str, Reading]
    steps: tuple[OutlineStep, ...]
    estimates: tuple[ReferenceEstimate, ...]
    prompts: tuple[StarterPrompt, ...]
    # Lower-cased title/alias/id -> concept id, for lookups by any name.
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def empty(cls) -> ContentStore:
        """Return a store with nothing in it."""
        return cls(MappingProxyType({}), MappingProxyType({}), (), (), ())

    def stats(self) -> dict[str, int]:
        """How many of each kind of item the store holds."""
        return {
            "concepts": len(self.concepts),
            "readings": len(self.readings),
            "steps": len(self.steps),
            "estimates": len(self.estimates),
            "prompts": len(self.prompts),
        }

    def find(self, name: str) -> Concept | None:
        """Return the concept whose id, title or alias is `name` (any case), or None."""
        key = name_key(name)
        # "reward hacking" typed for the id reward-hacking counts as the id.
        concept_id = self.names.get(key) or self.names.get("-".join(key.split()))
        return self.concepts.get(concept_id) if concept_id else None

    def readings_for(self, concept: Concept) -> list[Reading]:
        """Return the concept's readings in the order listed."""
        return [self.readings[r] for r in concept.readings if r in self.readings]


# Phones type curly quotes and dashes; a name matches however its punctuation was typed.
_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def name_key(name: str) -> str:
    """Return the form a concept name is looked up by: compatibility-normalised, straight quotes, case-folded."""
    return " ".join(unicodedata.normalize("NFKC", name).translate(_PUNCTUATION).casefold().split())


def reading_line(reading: Reading) -> str:
    """One markdown line for a reading: linked title, source, kind/level and time."""
    minutes = f", ~{reading.minutes} min" if reading.minutes else ""
    return f"[{reading.title}]({reading.url}) · {reading.author} ({reading.kind}, {reading.level}{minutes})"


def concept_card(concept: Concept, store: ContentStore) -> Card:
    """Render a concept as a card: summary, key points, example, related concepts, readings."""
    related = [store.concepts[r].title for r in concept.related if r in store.concepts]
    fields = [
        ("Key points", "\n".join(f"• {p}" for p in concept.key_points)),
        ("Example", concept.example),
    ]
    if related:
        fields.append(("Related", ", ".join(related)))
    readings = [reading_line(r) for r in store.readings_for(concept)]
    if readings:
        fields.append(("Read more", "\n".join(readings)))
    step = next((s for s in store.steps if s.id == concept.step), None)
    footer = f"Essay step: {step.title}" if step else None
    return Card(title=concept.title, description=concept.summary, fields=tuple(fields), footer=footer)


def card_text_length(card: Card) -> int:
    """Count the characters a reader sees: the card's total, with each markdown link counted as its text only."""
    hidden = sum(len(m.group(0)) - len(m.group(1)) for _, value in card.fields for m in _MARKDOWN_LINK.finditer(value))
    return card.total_length() - hidden


def card_problems(card: Card) -> list[str]:
    """Return what about `card` would break Discord's embed limits (empty when it fits)."""
    problems = []
    if len(card.title) > EMBED_TITLE_LIMIT:
        problems.append(f"title is {len(card.title)} characters; Discord allows {EMBED_TITLE_LIMIT}")
    if len(card.description) > EMBED_DESCRIPTION_LIMIT:
        problems.append(
            f"text is {len(card.description)} characters; Discord allows {EMBED_DESCRIPTION_LIMIT} in a description"
        )
    for name, value in card.fields:
        if len(value) > EMBED_FIELD_LIMIT:
            problems.append(f"'{name}' renders to {len(value)} characters; Discord allows {EMBED_FIELD_LIMIT}")
    if card.total_length() > EMBED_TOTAL_LIMIT - SHARE_CREDIT_RESERVE:
        problems.append(
            f"renders to {card.total_length()} characters; Discord allows {EMBED_TOTAL_LIMIT} in total, "
            f"and {SHARE_CREDIT_RESERVE} are kept for the 'Shared by' line"
        )
    return problems
