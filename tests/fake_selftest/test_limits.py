"""Unit tests of the Discord validation rules in ``fakediscord.limits`` (no client needed)."""

from __future__ import annotations

from tests.fakediscord import (
    validate_autocomplete,
    validate_commands,
    validate_components,
    validate_message,
    validate_modal,
)
from tests.fakediscord.limits import EMPTY_MESSAGE, errors_object


def _codes(violations: list) -> set[str]:
    return {".".join(map(str, v.path)) + ":" + v.code for v in violations}


def test_message_limits() -> None:
    """Content, embed and emptiness limits are reported with field paths."""
    assert validate_message({"content": "ok"}) == []
    assert [v.code for v in validate_message({})] == [EMPTY_MESSAGE]
    big = {"embeds": [{"title": "t" * 257, "fields": [{"name": "n", "value": "v" * 1025}] * 26}]}
    codes = _codes(validate_message(big))
    assert "embeds.0.title:BASE_TYPE_MAX_LENGTH" in codes
    assert "embeds.0.fields:BASE_TYPE_MAX_LENGTH" in codes
    assert "embeds.0.fields.0.value:BASE_TYPE_BAD_LENGTH" in codes
    assert "embeds:MAX_EMBED_SIZE_EXCEEDED" in codes
    assert errors_object(validate_message({"content": "x" * 2001}))["content"]["_errors"][0]["code"] == (
        "BASE_TYPE_MAX_LENGTH"
    )


def test_component_limits() -> None:
    """Rows, buttons per row, labels, custom_ids, select options and duplicates are checked."""
    button = {"type": 2, "style": 1, "label": "x" * 81, "custom_id": "c" * 101}
    rows = [{"type": 1, "components": [dict(button, custom_id=f"b{i}") for i in range(6)]}] * 6
    codes = _codes(validate_components(rows))
    assert "components:BASE_TYPE_MAX_LENGTH" in codes
    assert "components.0.components:BASE_TYPE_BAD_LENGTH" in codes
    assert "components.0.components.0.label:BASE_TYPE_MAX_LENGTH" in codes
    assert "components:COMPONENT_CUSTOM_ID_DUPLICATED" in codes
    select = {"type": 3, "custom_id": "s", "options": [{"label": "l", "value": str(i)} for i in range(26)]}
    assert "components.0.components.0.options:BASE_TYPE_BAD_LENGTH" in _codes(
        validate_components([{"type": 1, "components": [select]}])
    )
    assert validate_components([{"type": 1, "components": [dict(button, label="ok", custom_id="ok")]}]) == []


def test_modal_autocomplete_and_command_limits() -> None:
    """Modal title/label, autocomplete choices and command schemas follow Discord's limits."""
    modal = {
        "title": "t" * 46,
        "custom_id": "m",
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "x", "label": "l" * 46, "style": 1}]}],
    }
    codes = _codes(validate_modal(modal))
    assert (
        "data.title:BASE_TYPE_BAD_LENGTH" in codes
        and "data.components.0.components.0.label:BASE_TYPE_BAD_LENGTH" in codes
    )
    choices = {"choices": [{"name": "n" * 101, "value": "v"}] * 26}
    codes = _codes(validate_autocomplete(choices))
    assert "data.choices:BASE_TYPE_MAX_LENGTH" in codes and "data.choices.0.name:BASE_TYPE_BAD_LENGTH" in codes
    bad = [
        {
            "name": "Bad Name",
            "description": "",
            "options": [
                {"type": 3, "name": "a", "description": "d"},
                {"type": 3, "name": "b", "description": "d", "required": True},
            ],
        }
    ]
    codes = _codes(validate_commands(bad))
    assert "0.name:APPLICATION_COMMAND_INVALID_NAME" in codes
    assert "0.description:BASE_TYPE_BAD_LENGTH" in codes
    assert "0.options.1.required:APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID" in codes
