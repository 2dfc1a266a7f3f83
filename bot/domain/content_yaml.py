"""Reading one content file safely: bounded, scanned for hostile YAML, parsed, validated with line numbers.

Files are untrusted input (anyone in CONTENT_ADMINS can upload one), so before a document is composed its event
stream is scanned once, in linear time, for what content never needs and an attacker would use: anchors and
aliases (the "billion laughs" bomb, self-referencing lists), tags, deep nesting, huge values and huge numbers.
Every problem becomes a `ContentError` with its file, line and field
(`content/readings.yaml:12: readings[1].url: must start with https://`) so an admin can fix them all at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from bot.domain.content import LONGEST_FIELD, ContentError, ContentModel

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Bounds on a content file, checked before it is parsed into objects. Uploads have the same size limit.
MAX_FILE_BYTES = 256 * 1024
# A value over twice the longest field's length is a mistake or an attack.
MAX_SCALAR_CHARS = 4000
# Content numbers are years, minutes and probabilities; int() of thousands of digits is slow, and refused by Python.
MAX_NUMBER_DIGITS = 20
# The deepest content file (outline.yaml: steps, points, concepts) nests 6 levels; libyaml recurses per level.
MAX_DEPTH = 20
_NO_ANCHORS = "content files don't use anchors or aliases: write each value out in full"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})

_T = TypeVar("_T", bound=ContentModel)


class ContentSource:
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
