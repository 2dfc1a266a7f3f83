"""Hostile or absurd YAML is refused with one file:line error, in linear time, before anything is built from it."""

import re
import shutil
from pathlib import Path

import pytest

from bot.domain.content import ContentError, ContentInvalid
from bot.domain.content_loader import load_content
from bot.domain.content_yaml import MAX_FILE_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "content"
CONCEPT = "concepts/king-midas.yaml"


def errors_for(tmp_path: Path, text: str | bytes, relative: str = CONCEPT) -> list[ContentError]:
    """Copy the valid folder, replace one file with `text`, and return the errors loading it gives."""
    folder = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", folder)
    path = folder / relative
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentInvalid) as caught:
        load_content(folder)
    return caught.value.errors


@pytest.mark.parametrize("case", ["alias-bomb", "self-alias", "huge-integer"])
def test_hostile_file_gives_one_located_error(tmp_path: Path, case: str) -> None:
    """The billion-laughs bomb, a self-containing list and a 5,000-digit number each give one file:line error."""
    text = (FIXTURES / "broken" / case / CONCEPT).read_text(encoding="utf-8")
    errors = errors_for(tmp_path, text)
    assert len(errors) == 1
    assert re.match(r"content/concepts/king-midas\.yaml:3: \S", str(errors[0])), errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: !!python/object:os.system x\n", ":1: uses a YAML tag (tag:yaml.org,2002:python/object:os.system)"),
        ("id: x\nstep: !!int '5'\n", ":2: uses a YAML tag"),
        ("id: x\nrelated: " + "[" * 50 + "]" * 50 + "\n", ":2: is nested more than 20 levels deep"),
        (
            "id: x\nexample: " + "a" * 4001 + "\n",
            ":2: has a value of 4001 characters; no content field takes over 1800",
        ),
        ("id: x\nexample: '" + "b" * 9000 + "'\n", ":2: has a value of 9000 characters"),
        ("id: x\nminutes: 1" + "0" * 25 + "\n", ":2: has a number with 26 digits; content numbers have at most 20"),
        ("id: x\nminutes: 1" + "_0" * 25 + ".5e+3\n", ":2: has a number with 28 digits"),
    ],
)
def test_constructs_content_never_needs_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    """Tags, deep nesting, overlong values and overlong numbers are each refused at their line."""
    errors = errors_for(tmp_path, text)
    assert len(errors) == 1
    assert str(errors[0]).startswith(f"content/{CONCEPT}{expected}"), errors[0]


def test_long_digit_string_in_quotes_is_text_not_a_number(tmp_path: Path) -> None:
    """A quoted run of digits is a string, so it gets the field's own error rather than the number limit."""
    errors = errors_for(tmp_path, "id: king-midas\ntitle: '" + "1" * 100 + "'\n")
    assert "digits" not in " ".join(str(e) for e in errors)
    assert any(e.field == "title" and "at most 80" in e.message for e in errors)


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    """A file over 256 KiB is refused with the limit named, like an oversized upload."""
    errors = errors_for(tmp_path, "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert [str(e) for e in errors] == [f"content/{CONCEPT}: is larger than 256 KiB, the limit for a content file"]


def test_file_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 give a located sentence, not a decoding traceback."""
    errors = errors_for(tmp_path, b"id: king-midas\ntitle: caf\xe9\n")
    assert [str(e) for e in errors] == [f"content/{CONCEPT}:2: is not UTF-8 text; save it as UTF-8"]
