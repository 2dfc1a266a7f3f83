"""Loading the content folder: every file read and validated, cross-references checked, a `ContentStore` out.

readings.yaml and outline.yaml are required (concept cards and the tour are built from them), and there must be at
least one concept; references.yaml and prompts.yaml are optional (no reference estimates, no starter prompts).
Loading never stops at the first problem: every error in every file is collected, then raised together in one
`ContentInvalid`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import Field

from bot.domain.content import (
    CARD_TEXT_BUDGET,
    Concept,
    ContentError,
    ContentInvalid,
    ContentModel,
    ContentStore,
    OutlineStep,
    Reading,
    ReferenceEstimate,
    StarterPrompt,
    card_problems,
    card_text_length,
    concept_card,
    name_key,
)
from bot.domain.content_yaml import ContentSource


class ReadingsFile(ContentModel):
    """`readings.yaml`."""

    readings: tuple[Reading, ...]


class OutlineFile(ContentModel):
    """`outline.yaml`."""

    steps: tuple[OutlineStep, ...] = Field(min_length=1)


class ReferencesFile(ContentModel):
    """`references.yaml`."""

    estimates: tuple[ReferenceEstimate, ...] = ()


class PromptsFile(ContentModel):
    """`prompts.yaml`."""

    prompts: tuple[StarterPrompt, ...] = ()


# The files of the folder and the model of each; concepts/*.yaml use `Concept`.
FILE_MODELS: dict[str, type[ContentModel]] = {
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
SCHEMA_FILES: dict[str, type[ContentModel]] = {
    "concept.schema.json": Concept,
    "readings.schema.json": ReadingsFile,
    "outline.schema.json": OutlineFile,
    "references.schema.json": ReferencesFile,
    "prompts.schema.json": PromptsFile,
}


def load_content(directory: Path) -> ContentStore:
    """Read and validate the content folder; raise `ContentInvalid` listing every error found."""
    if not directory.is_dir():
        raise ContentInvalid([ContentError(str(directory), None, "", "is not a folder (check CONTENT_DIR)")])
    sources: list[ContentSource] = []

    def open_source(path: Path) -> ContentSource:
        source = ContentSource(path, f"{directory.name}/{path.relative_to(directory).as_posix()}")
        sources.append(source)
        return source

    concepts: dict[str, Concept] = {}
    concept_sources: dict[str, ContentSource] = {}
    # Concepts whose own file is broken: references to them are not reported again as unknown ids.
    broken: set[str] = set()
    for path in _concept_files(directory):
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


def _index(source: ContentSource | None, key: str, items: tuple[_Item, ...]) -> dict[str, _Item]:
    """Index items by id, recording an error for each duplicate."""
    index: dict[str, _Item] = {}
    for position, item in enumerate(items):
        if item.id in index and source is not None:
            source.error((key, position, "id"), f"duplicate id {item.id!r}")
        index[item.id] = item
    return index


def _check_names(concepts: dict[str, Concept], sources: dict[str, ContentSource]) -> dict[str, str]:
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


def _concept_files(directory: Path) -> list[Path]:
    """Return the concept files of the folder (`concepts/*.yaml` or `.yml`), sorted by name."""
    return sorted((directory / "concepts").glob("*.y*ml"))


def iter_content_files(directory: Path) -> Iterator[Path]:
    """Yield each file `load_content` reads from `directory`: the concept files, then those of `FILE_MODELS` present."""
    yield from _concept_files(directory)
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
