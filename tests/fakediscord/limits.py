"""Discord's validation rules for messages, components, modals, autocomplete and commands.

Every ``validate_*`` function returns a list of :class:`Violation` (empty when valid) instead of
raising, so the server can report all of them at once in a Discord-shaped ``Invalid Form Body``
(code 50035) error, and tests can call them directly on a payload.

One special case: an *empty* message is reported by Discord as its own error
(400, code 50006 "Cannot send an empty message"), so :func:`validate_message` returns a
violation with code :data:`EMPTY_MESSAGE` for it, and the server turns that into 50006.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# --- the numbers (https://discord.com/developers/docs) -------------------------------------
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_TEXT_MAX = 2048
EMBED_AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
COMPONENTS_V2_TOTAL_MAX = 40
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
LABEL_DESCRIPTION_MAX = 100
ALLOWED_MENTIONS_IDS_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_CHOICES_MAX = 25

#: Message flag marking a Components V2 message (no content/embeds, up to 40 components).
IS_COMPONENTS_V2 = 1 << 15

#: Pseudo error code used for "the message is empty" (rendered by the server as 50006).
EMPTY_MESSAGE = "EMPTY_MESSAGE"

_COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a JSON path), Discord's error code and its human message."""

    path: Path
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<root>"
        return f"{where}: {self.code} ({self.message})"


def _max_len(path: Path, value: Any, limit: int, minimum: int = 0) -> list[Violation]:
    if value is None:
        return []
    length = len(value) if isinstance(value, str | list | tuple) else 0
    if minimum and not minimum <= length <= limit:
        return [Violation(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {minimum} and {limit} in length.")]
    if length > limit:
        return [Violation(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def embed_text_length(embed: Mapping[str, Any]) -> int:
    """Characters that count towards the 6000 total: title, description, fields, footer, author."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embeds(embeds: Sequence[Mapping[str, Any]], base: Path = ("embeds",)) -> list[Violation]:
    """Check the embed limits (count, per-field lengths and the 6000 character total)."""
    out = _max_len(base, list(embeds), EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        p = (*base, i)
        out += _max_len((*p, "title"), embed.get("title"), EMBED_TITLE_MAX)
        out += _max_len((*p, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX)
        fields = embed.get("fields") or []
        out += _max_len((*p, "fields"), fields, EMBED_FIELDS_MAX)
        for j, field in enumerate(fields):
            out += _max_len((*p, "fields", j, "name"), field.get("name"), EMBED_FIELD_NAME_MAX, 1)
            out += _max_len((*p, "fields", j, "value"), field.get("value"), EMBED_FIELD_VALUE_MAX, 1)
        out += _max_len((*p, "footer", "text"), (embed.get("footer") or {}).get("text"), EMBED_FOOTER_TEXT_MAX)
        out += _max_len((*p, "author", "name"), (embed.get("author") or {}).get("name"), EMBED_AUTHOR_NAME_MAX)
        total += embed_text_length(embed)
    if total > EMBED_TOTAL_MAX:
        out.append(Violation(base, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"))
    return out


def _validate_interactive(comp: Mapping[str, Any], p: Path) -> list[Violation]:
    """Buttons, selects and text inputs (the leaves that carry a custom_id)."""
    out: list[Violation] = []
    ctype = comp.get("type")
    if ctype == 2:  # button
        out += _max_len((*p, "label"), comp.get("label"), BUTTON_LABEL_MAX)
        if comp.get("style") not in (5, 6):  # link and premium buttons have no custom_id
            if not comp.get("custom_id"):
                out.append(Violation((*p, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required"))
            out += _max_len((*p, "custom_id"), comp.get("custom_id"), CUSTOM_ID_MAX, 1)
    elif ctype in (3, 5, 6, 7, 8):  # selects
        out += _max_len((*p, "custom_id"), comp.get("custom_id"), CUSTOM_ID_MAX, 1)
        out += _max_len((*p, "placeholder"), comp.get("placeholder"), SELECT_PLACEHOLDER_MAX)
        if ctype == 3:
            options = comp.get("options") or []
            out += _max_len((*p, "options"), options, SELECT_OPTIONS_MAX, 1)
            for k, opt in enumerate(options):
                out += _max_len((*p, "options", k, "label"), opt.get("label"), SELECT_OPTION_TEXT_MAX, 1)
                out += _max_len((*p, "options", k, "value"), opt.get("value"), SELECT_OPTION_TEXT_MAX, 1)
                out += _max_len((*p, "options", k, "description"), opt.get("description"), SELECT_OPTION_TEXT_MAX)
        for key, lo, hi in (("min_values", 0, 25), ("max_values", 1, 25)):
            v = comp.get(key)
            if v is not None and not lo <= v <= hi:
                out.append(Violation((*p, key), "NUMBER_TYPE_MAX", f"int value should be between {lo} and {hi}."))
    elif ctype == 4:  # text input
        out += _max_len((*p, "custom_id"), comp.get("custom_id"), CUSTOM_ID_MAX, 1)
        if "label" in comp:  # inside a Label component the text input has no label of its own
            out += _max_len((*p, "label"), comp.get("label"), TEXT_INPUT_LABEL_MAX, 1)
        out += _max_len((*p, "value"), comp.get("value"), TEXT_INPUT_VALUE_MAX)
        out += _max_len((*p, "placeholder"), comp.get("placeholder"), TEXT_INPUT_PLACEHOLDER_MAX)
    return out


def iter_components(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Yield every component, walking rows, containers, sections and labels (depth first)."""
    for comp in components:
        yield comp
        yield from iter_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                yield from iter_components([child])


def _validate_tree(components: Sequence[Mapping[str, Any]], base: Path) -> list[Violation]:
    out: list[Violation] = []
    for i, comp in enumerate(components):
        p = (*base, i)
        if comp.get("type") == 1:  # action row
            children = comp.get("components") or []
            out += _max_len((*p, "components"), children, BUTTONS_PER_ROW_MAX, 1)
            if any(c.get("type") != 2 for c in children) and len(children) > 1:
                out.append(
                    Violation(
                        (*p, "components"),
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
                )
            for j, child in enumerate(children):
                out += _validate_interactive(child, (*p, "components", j))
        else:
            out += _validate_interactive(comp, p)
            if comp.get("components"):
                out += _validate_tree(comp["components"], (*p, "components"))
            for key in ("accessory", "component"):
                if isinstance(comp.get(key), Mapping):
                    out += _validate_interactive(comp[key], (*p, key))
                    if comp[key].get("components"):
                        out += _validate_tree(comp[key]["components"], (*p, key, "components"))
    return out


def validate_components(components: Sequence[Mapping[str, Any]], *, v2: bool = False) -> list[Violation]:
    """Check message components: ≤5 rows (≤40 total with Components V2), ≤5 buttons a row, lengths."""
    base: Path = ("components",)
    if v2:
        out = []
        if sum(1 for _ in iter_components(components)) > COMPONENTS_V2_TOTAL_MAX:
            out.append(
                Violation(base, "BASE_TYPE_MAX_LENGTH", f"Must be {COMPONENTS_V2_TOTAL_MAX} or fewer in length.")
            )
    else:
        out = _max_len(base, list(components), ACTION_ROWS_MAX)
    out += _validate_tree(components, base)
    seen: set[str] = set()
    for comp in iter_components(components):
        cid = comp.get("custom_id")
        if cid is None:
            continue
        if cid in seen:
            out.append(Violation(base, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"))
        seen.add(cid)
    return out


def validate_allowed_mentions(am: Mapping[str, Any] | None) -> list[Violation]:
    """``parse`` and explicit id lists are mutually exclusive per type; ≤100 ids each."""
    if not am:
        return []
    out: list[Violation] = []
    parse = am.get("parse") or []
    for kind in ("users", "roles"):
        ids = am.get(kind) or []
        if kind in parse and ids:
            out.append(
                Violation(
                    ("allowed_mentions",),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            )
        out += _max_len(("allowed_mentions", kind), ids, ALLOWED_MENTIONS_IDS_MAX)
    return out


def validate_message(
    payload: Mapping[str, Any],
    *,
    file_count: int = 0,
    existing_attachments: int = 0,
    check_empty: bool = True,
) -> list[Violation]:
    """All message rules for a create/edit payload (content, embeds, components, mentions, emptiness).

    ``file_count`` is the number of uploaded files; for edits pass ``check_empty=False`` and
    validate the merged result separately (an edit may legitimately touch one field only).
    """
    out: list[Violation] = []
    content = payload.get("content")
    out += _max_len(("content",), content, CONTENT_MAX)
    embeds = payload.get("embeds") or []
    out += validate_embeds(embeds)
    flags = int(payload.get("flags") or 0)
    components = payload.get("components") or []
    out += validate_components(components, v2=bool(flags & IS_COMPONENTS_V2))
    out += validate_allowed_mentions(payload.get("allowed_mentions"))
    attachments = payload.get("attachments") or []
    has_body = bool(
        content or embeds or components or payload.get("poll") or payload.get("sticker_ids") or file_count
    ) or bool(attachments or existing_attachments)
    if check_empty and not has_body:
        out.append(Violation((), EMPTY_MESSAGE, "Cannot send an empty message"))
    return out


def validate_modal(data: Mapping[str, Any]) -> list[Violation]:
    """Modal (callback type 9): title 1-45, custom_id 1-100, 1-5 top-level components, label ≤45."""
    base: Path = ("data",)
    out = _max_len((*base, "title"), data.get("title"), MODAL_TITLE_MAX, 1)
    out += _max_len((*base, "custom_id"), data.get("custom_id"), CUSTOM_ID_MAX, 1)
    components = data.get("components") or []
    out += _max_len((*base, "components"), components, MODAL_COMPONENTS_MAX, 1)
    for i, comp in enumerate(components):
        p = (*base, "components", i)
        if comp.get("type") == 18:  # Label wrapping one component
            out += _max_len((*p, "label"), comp.get("label"), TEXT_INPUT_LABEL_MAX, 1)
            out += _max_len((*p, "description"), comp.get("description"), LABEL_DESCRIPTION_MAX)
    out += [Violation((*base, *v.path), v.code, v.message) for v in _validate_tree(components, ("components",))]
    return out


def validate_autocomplete(data: Mapping[str, Any]) -> list[Violation]:
    """Autocomplete result (callback type 8): ≤25 choices, name 1-100, string value ≤100."""
    choices = data.get("choices") or []
    out = _max_len(("data", "choices"), choices, AUTOCOMPLETE_CHOICES_MAX)
    for i, choice in enumerate(choices):
        out += _max_len(("data", "choices", i, "name"), choice.get("name"), CHOICE_NAME_MAX, 1)
        if isinstance(choice.get("value"), str):
            out += _max_len(("data", "choices", i, "value"), choice.get("value"), CHOICE_VALUE_MAX)
    return out


def _validate_options(options: Sequence[Mapping[str, Any]], base: Path) -> list[Violation]:
    out = _max_len(base, list(options), COMMAND_OPTIONS_MAX)
    seen_optional = False
    names: set[str] = set()
    for i, opt in enumerate(options):
        p = (*base, i)
        name = opt.get("name") or ""
        if not _COMMAND_NAME_RE.match(name) or name != name.lower():
            out.append(Violation((*p, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
        if name in names:
            out.append(Violation((*p, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Duplicate name"))
        names.add(name)
        out += _max_len((*p, "description"), opt.get("description"), COMMAND_DESCRIPTION_MAX, 1)
        if opt.get("type") in (1, 2):
            out += _validate_options(opt.get("options") or [], (*p, "options"))
            continue
        if opt.get("required"):
            if seen_optional:
                out.append(
                    Violation(
                        (*p, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        out += _max_len((*p, "choices"), choices, COMMAND_CHOICES_MAX)
        for j, choice in enumerate(choices):
            out += _max_len((*p, "choices", j, "name"), choice.get("name"), CHOICE_NAME_MAX, 1)
    return out


def validate_commands(commands: Sequence[Mapping[str, Any]]) -> list[Violation]:
    """Bulk-overwrite payload: valid lowercase names ≤32, descriptions 1-100, ≤25 options, order."""
    out: list[Violation] = []
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        name = cmd.get("name") or ""
        ctype = int(cmd.get("type") or 1)
        if ctype == 1:
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                out.append(Violation((i, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
            out += _max_len((i, "description"), cmd.get("description"), COMMAND_DESCRIPTION_MAX, 1)
        else:
            out += _max_len((i, "name"), name, COMMAND_NAME_MAX, 1)
        if (name, ctype) in seen:
            out.append(
                Violation(
                    (i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
                )
            )
        seen.add((name, ctype))
        out += _validate_options(cmd.get("options") or [], (i, "options"))
    return out


def errors_object(violations: Iterable[Violation]) -> dict[str, Any]:
    """Nest violations into Discord's ``errors`` shape: ``{"embeds": {"0": {"title": {"_errors": [...]}}}}``."""
    root: dict[str, Any] = {}
    for v in violations:
        node = root
        for part in v.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": v.code, "message": v.message})
    return root
