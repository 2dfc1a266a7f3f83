"""The content store: YAML files under `content/` in, a frozen, indexed `ContentStore` out.

Layout of the folder:
    concepts/<id>.yaml   one concept per file (the file name is its id)
    readings.yaml        every reading link, referenced by id from concepts
    outline.yaml         the essay's argument as steps and points, for the guided tour
    references.yaml      public figures' published P(Doom) estimates
    prompts.yaml         starter discussion prompts

readings.yaml and outline.yaml are required (concept cards and the tour are built from them), and there must be at
least one concept; references.yaml and prompts.yaml are optional (no reference estimates, no starter prompts).

Loading never stops at the first problem: every error is collected with its file, line and field
(`content/readings.yaml:12: readings[1].url: must start with https://`) so an admin can fix them all at once.
Files are untrusted input (anyone in CONTENT_ADMINS can upload one), so before a document is composed its event
stream is scanned once, in linear time, for what content never needs and an attacker would use: anchors and
aliases (the "billion laughs" bomb, self-referencing lists), tags, deep nesting, huge values and huge numbers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.domain.card import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    Card,
)
from bot.errors import UserFacingError

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#][^\s<>\"]*)?$")

# A concept card's text (links' addresses not counted) fits about two phone screens.
CARD_TEXT_BUDGET = 1700  # cards are written to about 1,600; the margin lets a related title grow
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(https://[^)\s]*\)")
# A shared card gains the author line "Shared by <display name>" (names are at most 32 characters), which counts
# towards the total; cards keep this much room free so sharing never pushes one over the limit.
SHARE_CREDIT_RESERVE = 64

# Bounds on a content file, checked before it is parsed into objects. Uploads have the same size limit.
MAX_FILE_BYTES = 256 * 1024
# The longest field is a concept's summary; a value over twice that long is a mistake or an attack.
LONGEST_FIELD = 1800
MAX_SCALAR_CHARS = 4000
# Content numbers are years, minutes and probabilities; int() of thousands of digits is slow, and refused by Python.
MAX_NUMBER_DIGITS = 20
# The deepest content file (outline.yaml: steps, points, concepts) nests 6 levels; libyaml recurses per level.
MAX_DEPTH = 20
_NO_ANCHORS = "content files don't use anchors or aliases: write each value out in full"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


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
Text500 = Annotated[str, _text(500)]
Text400 = Annotated[str, _text(400)]
Text600 = Annotated[str, _text(600)]
Text700 = Annotated[str, _text(700)]


class _Model(BaseModel):
    # extra="forbid" turns an admin's typo (`sumary:`) into an error instead of silently ignoring it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Model):
    """A link to something worth reading, watching or browsing."""

    id: Slug
    title: Text200
    url: Url
    author: Text100
    kind: Literal["paper", "post", "video", "book", "wiki"]
    level: Literal["intro", "intermediate", "technical"]
    minutes: Annotated[int, Field(ge=1, le=1000)] | None = None


class Concept(_Model):
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


class OutlinePoint(_Model):
    """One sub-point of an essay step and the concepts that explain it."""

    title: Text100
    summary: Text500
    concepts: tuple[Slug, ...] = Field(min_length=1, max_length=6)


class OutlineStep(_Model):
    """One step of the essay's argument."""

    id: Slug
    title: Text100
    summary: Text700
    points: tuple[OutlinePoint, ...] = Field(min_length=1, max_length=6)


class ReferenceEstimate(_Model):
    """A public figure's published P(Doom), as stated, with a numeric midpoint."""

    id: Slug
    who: Text100
    stated: Text200
    value: Annotated[float, Field(gt=0, lt=1)]
    year: Annotated[int, Field(ge=1950, le=2100)]
    source: Url
    note: Text300 | None = None


class StarterPrompt(_Model):
    """A discussion question shipped with the bot, imported into a server's prompt queue."""

    id: Slug
    title: Text100 | None = None
    text: Annotated[str, _text(600, min_length=20)]
    concept: Slug
    tags: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=30)], ...] = Field(
        min_length=1, max_length=3
    )


class ReadingsFile(_Model):
    """`readings.yaml`."""

    readings: tuple[Reading, ...]


class OutlineFile(_Model):
    """`outline.yaml`."""

    steps: tuple[OutlineStep, ...] = Field(min_length=1)


class ReferencesFile(_Model):
    """`references.yaml`."""

    estimates: tuple[ReferenceEstimate, ...] = ()


class PromptsFile(_Model):
    """`prompts.yaml`."""

    prompts: tuple[StarterPrompt, ...] = ()


# The files of the folder and the model of each; concepts/*.yaml use `Concept`.
FILE_MODELS: dict[str, type[_Model]] = {
    "readings.yaml": ReadingsFile,
    "outline.yaml": OutlineFile,
    "references.yaml": ReferencesFile,
    "prompts.yaml": PromptsFile,
}
# The files that must exist, and why (the sentence an admin reads when one is missing). references.yaml and
# prompts.yaml are optional: without them there are no reference estimates and no starter prompts, nothing breaks.
REQUIRED_FILES: dict[str, str] = {
    "readings.yaml": "every concept's readings are listed there",
    "outline.yaml": "the essay's steps, used by /concepts and /tour, are listed there",
}
NO_CONCEPTS = "holds no concept files (concepts/<id>.yaml); the bot needs at least one concept to serve"
SCHEMA_FILES: dict[str, type[_Model]] = {
    "concept.schema.json": Concept,
    "readings.schema.json": ReadingsFile,
    "outline.schema.json": OutlineFile,
    "references.schema.json": ReferencesFile,
    "prompts.schema.json": PromptsFile,
}


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
    """The content folder has errors; `errors` lists every one of them (cogs show them all in an embed)."""

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


# --- rendering (used by the cogs and by validation, so what validates is what gets sent) ---


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


# --- loading ---

_T = TypeVar("_T", bound=_Model)


class _Source:
    """One YAML file: its parsed data and the line of every node, for error messages."""

    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        self.data: Any = None
        self.root: yaml.Node | None = None
        self.errors: list[ContentError] = []
        text = self._read(path)
        if text is None:
            return
        try:
            if hostile := _first_hostile_construct(text):
                line, problem = hostile
                self.errors.append(ContentError(label, line, "", problem))
                return
            loader = _Loader(text)
            try:
                self.root = loader.get_single_node()
                self.data = loader.construct_document(self.root) if self.root is not None else None
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark.line + 1 if exc.problem_mark else None
            self.errors.append(ContentError(label, mark, "", f"YAML syntax error: {exc.problem}"))
        except yaml.YAMLError as exc:
            self.errors.append(ContentError(label, None, "", f"YAML error: {exc}"))
        except (RecursionError, ValueError, OverflowError) as exc:
            # The scan above should make these impossible; if one slips through, it is still this file's error,
            # never a crash of start-up or of a reload.
            self.root, self.data = None, None
            self.errors.append(ContentError(label, None, "", f"cannot be read as content: {type(exc).__name__}"))
        if self.root is not None:
            self._check_duplicate_keys(self.root, ())

    def _read(self, path: Path) -> str | None:
        """Return the file's text, or record why it can't be used (unreadable, too large, not UTF-8) and None."""
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self.errors.append(ContentError(self.label, None, "", f"cannot be read: {exc.strerror or exc}"))
            return None
        if len(data) > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES // 1024} KiB"
            self.errors.append(
                ContentError(self.label, None, "", f"is larger than {limit}, the limit for a content file")
            )
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.errors.append(ContentError(self.label, line, "", "is not UTF-8 text; save it as UTF-8"))
            return None

    def _check_duplicate_keys(self, node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    self.error((*path, name), "appears twice in the same block")
                seen.add(name)
                self._check_duplicate_keys(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._check_duplicate_keys(item, (*path, index))

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """Return the 1-based line of the node at `path`, or of its nearest ancestor that exists."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if str(k.value) == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        """Record an error at `path` (a field path like ('readings', 1, 'url'))."""
        self.errors.append(ContentError(self.label, self.line_of(path), format_path(path), message))

    def parse(self, model: type[_T]) -> _T | None:
        """Validate the data into `model`, recording every validation error; None when invalid."""
        if self.errors:
            return None
        if not isinstance(self.data, dict):
            self.errors.append(ContentError(self.label, 1, "", "must be a YAML mapping of fields (key: value)"))
            return None
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            errors = [(tuple(p for p in err["loc"] if isinstance(p, str | int)), err) for err in exc.errors()]
            for path, err in errors:
                # pydantic drops an invalid list item, then reports the list as too short: the item's own error
                # is the one to fix, so the count is not reported beside it.
                if err["type"] == "too_short" and any(len(p) > len(path) and p[: len(path)] == path for p, _ in errors):
                    continue
                self.error(path, _message(err))
            return None


def _first_hostile_construct(text: str) -> tuple[int, str] | None:
    """Return the line and problem of the first construct content files never use, or None when there is none.

    Walks libyaml's event stream once without building anything, so it takes time linear in the file's size
    however the file is crafted; composing or constructing a document with aliases can take exponential time.
    """
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if problem := _event_problem(loader, event, depth):
                return event.start_mark.line + 1, problem
    finally:
        loader.dispose()
    return None


def _event_problem(loader: yaml.SafeLoader, event: yaml.Event, depth: int) -> str | None:
    """Return what content files may not contain about one parser event, or None when it is fine."""
    if isinstance(event, yaml.AliasEvent):
        return f"uses an alias (*{event.anchor}); {_NO_ANCHORS}"
    if not isinstance(event, yaml.NodeEvent):
        return None
    if event.anchor is not None:
        return f"uses an anchor (&{event.anchor}); {_NO_ANCHORS}"
    tag = getattr(event, "tag", None)
    if tag is not None:
        return f"uses a YAML tag ({tag}); content files are plain YAML without tags"
    if depth > MAX_DEPTH:
        return f"is nested more than {MAX_DEPTH} levels deep; content files need far fewer"
    if not isinstance(event, yaml.ScalarEvent):
        return None
    value = event.value
    # Only a plain (unquoted) scalar can be read as a number; quoted ones stay text. (The resolver's patterns are
    # anchored and linear, so this is cheap even on a long value.)
    if (
        len(value) > MAX_NUMBER_DIGITS
        and event.implicit[0]
        and loader.resolve(yaml.ScalarNode, value, (True, False)) in _NUMBER_TAGS
        and (digits := sum(char.isdigit() for char in value)) > MAX_NUMBER_DIGITS
    ):
        return f"has a number with {digits} digits; content numbers have at most {MAX_NUMBER_DIGITS}"
    if len(value) > MAX_SCALAR_CHARS:
        return f"has a value of {len(value)} characters; no content field takes over {LONGEST_FIELD}"
    return None


def format_path(path: tuple[str | int, ...]) -> str:
    """Render ('readings', 1, 'url') as `readings[1].url`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _message(err: Any) -> str:
    """Turn pydantic's wording into a short admin-facing phrase."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known field (typo?)"
    if kind == "string_pattern_mismatch":
        return "must be lowercase letters, digits and single hyphens (like king-midas)"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in ("too_long", "too_short") and "actual_length" in ctx:
        bound = f"at most {ctx['max_length']}" if kind == "too_long" else f"at least {ctx['min_length']}"
        return f"must have {bound} items (it has {ctx['actual_length']})"
    text = str(err["msg"]).replace("Input should be", "must be").replace("String should", "must")
    return text.replace("tuple", "list").replace("Tuple", "list")


def load_content(directory: Path) -> ContentStore:
    """Read and validate the content folder; raise `ContentInvalid` listing every error found."""
    if not directory.is_dir():
        raise ContentInvalid([ContentError(str(directory), None, "", "is not a folder (check CONTENT_DIR)")])
    sources: list[_Source] = []

    def open_source(path: Path) -> _Source:
        source = _Source(path, f"{directory.name}/{path.relative_to(directory).as_posix()}")
        sources.append(source)
        return source

    concepts: dict[str, Concept] = {}
    concept_sources: dict[str, _Source] = {}
    # Concepts whose own file is broken: references to them are not reported again as unknown ids.
    broken: set[str] = set()
    for path in sorted((directory / "concepts").glob("*.y*ml")):
        source = open_source(path)
        concept = source.parse(Concept)
        if concept is None:
            broken.add(path.stem)
            continue
        if concept.id != path.stem:
            source.error(("id",), f"must match the file name ({path.stem!r})")
        elif concept.id in concepts:
            source.error(("id",), f"duplicate concept id {concept.id!r}")
        else:
            concepts[concept.id] = concept
            concept_sources[concept.id] = source

    # A folder missing its concepts or required files is refused, not served half empty.
    missing: list[ContentError] = []
    if not concepts and not broken:
        missing.append(ContentError(f"{directory.name}/concepts", None, "", NO_CONCEPTS))
    parsed: dict[str, Any] = {}
    for name, model in FILE_MODELS.items():
        path = directory / name
        if path.exists():
            file_source = open_source(path)
            parsed[name] = (file_source, file_source.parse(model))
        elif name in REQUIRED_FILES:
            missing.append(ContentError(f"{directory.name}/{name}", None, "", f"is missing; {REQUIRED_FILES[name]}"))
    readings_file = parsed.get("readings.yaml", (None, None))
    outline_file = parsed.get("outline.yaml", (None, None))
    references_file = parsed.get("references.yaml", (None, None))
    prompts_file = parsed.get("prompts.yaml", (None, None))

    readings = _index(readings_file[0], "readings", readings_file[1].readings if readings_file[1] else ())
    steps: tuple[OutlineStep, ...] = outline_file[1].steps if outline_file[1] else ()
    _index(outline_file[0], "steps", steps)
    estimates: tuple[ReferenceEstimate, ...] = references_file[1].estimates if references_file[1] else ()
    _index(references_file[0], "estimates", estimates)
    prompts: tuple[StarterPrompt, ...] = prompts_file[1].prompts if prompts_file[1] else ()
    _index(prompts_file[0], "prompts", prompts)

    names = _check_names(concepts, concept_sources)
    store = ContentStore(
        concepts=MappingProxyType(concepts),
        readings=MappingProxyType(readings),
        steps=steps,
        estimates=estimates,
        prompts=prompts,
        names=MappingProxyType(names),
    )
    step_ids = {s.id for s in steps}
    for concept_id, concept in concepts.items():
        source = concept_sources[concept_id]
        for index, ref in enumerate(concept.related):
            if ref not in concepts and ref not in broken:
                source.error(("related", index), f"no concept has the id {ref!r}")
            elif ref == concept_id:
                source.error(("related", index), "a concept cannot be related to itself")
        for index, ref in enumerate(concept.readings):
            if readings_file[1] is not None and ref not in readings:
                source.error(("readings", index), f"no reading has the id {ref!r} in readings.yaml")
        if outline_file[1] is not None and concept.step not in step_ids:
            source.error(("step",), f"must be one of the outline's step ids: {', '.join(sorted(step_ids))}")
        card = concept_card(concept, store)
        for problem in card_problems(card):
            source.error((), f"too long for Discord: {problem}")
        if (length := card_text_length(card)) > CARD_TEXT_BUDGET:
            source.error(
                (),
                f"the card is {length} characters of text; keep it to {CARD_TEXT_BUDGET} so it reads on a phone "
                "(shorten the summary, key points or example, or list fewer readings)",
            )
    if outline_file[0] is not None:
        for s_index, step in enumerate(steps):
            for p_index, point in enumerate(step.points):
                for c_index, ref in enumerate(point.concepts):
                    if ref not in concepts and ref not in broken:
                        outline_file[0].error(
                            ("steps", s_index, "points", p_index, "concepts", c_index), f"no concept has the id {ref!r}"
                        )
    if prompts_file[0] is not None:
        for index, prompt in enumerate(prompts):
            if prompt.concept not in concepts and prompt.concept not in broken:
                prompts_file[0].error(("prompts", index, "concept"), f"no concept has the id {prompt.concept!r}")

    errors = missing + [error for source in sources for error in source.errors]
    if errors:
        raise ContentInvalid(errors)
    return store


_Item = TypeVar("_Item", Reading, OutlineStep, ReferenceEstimate, StarterPrompt)


def _index(source: _Source | None, key: str, items: tuple[_Item, ...]) -> dict[str, _Item]:
    """Index items by id, recording an error for each duplicate."""
    index: dict[str, _Item] = {}
    for position, item in enumerate(items):
        if item.id in index and source is not None:
            source.error((key, position, "id"), f"duplicate id {item.id!r}")
        index[item.id] = item
    return index


def _check_names(concepts: dict[str, Concept], sources: dict[str, _Source]) -> dict[str, str]:
    """Map every id, title and alias (case-folded) to its concept, recording collisions between concepts.

    Ids are claimed first, then titles, then aliases, so a colliding alias is reported on the alias.
    """
    owner: dict[str, str] = {}
    passes: list[list[tuple[str, tuple[str | int, ...], str]]] = [
        [(c.id, ("id",), c.id) for c in concepts.values()],
        [(c.id, ("title",), c.title) for c in concepts.values()],
        [(c.id, ("aliases", i), alias) for c in concepts.values() for i, alias in enumerate(c.aliases)],
    ]
    for names in passes:
        for concept_id, path, name in names:
            key = name_key(name)
            other = owner.get(key)
            if other is not None and other != concept_id:
                sources[concept_id].error(path, f"{name!r} is already a name of concept {other!r}")
            else:
                owner[key] = concept_id
    return owner


def iter_content_files(directory: Path) -> Iterator[Path]:
    """Yield every YAML file the loader reads, for structure tests and the schema generator."""
    yield from sorted((directory / "concepts").glob("*.y*ml"))
    for name in FILE_MODELS:
        if (directory / name).exists():
            yield directory / name


def json_schemas() -> dict[str, str]:
    """Return the JSON Schema text of each content file kind, keyed by file name under `content/schema/`.

    YAML files point at these (`# yaml-language-server: $schema=...`) so editors offer completion and flag
    mistakes while an admin types.
    """
    schemas = {}
    for name, model in SCHEMA_FILES.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema()}
        schemas[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return schemas
