"""One mapping between table rows and the domain's dataclasses, driven by their type hints.

Storage keeps datetimes as ISO 8601 text in UTC (which also sorts correctly), times of day as "HH:MM", booleans as
0/1 and tuples of words as comma-separated text. `from_row` reads any dataclass from a row by its field names;
`to_sql` turns one value into what the database stores.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, time
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


def to_sql(value: Any) -> Any:
    """Return `value` as the database stores it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple):
        return ",".join(value)
    return value


def parse_datetime(text: str | None) -> datetime | None:
    """Read a stored datetime (None stays None)."""
    return datetime.fromisoformat(text) if text else None


def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word in str(text).split(",") if word)


_READERS: dict[Any, Callable[[Any], Any]] = {
    datetime: datetime.fromisoformat,
    time: time.fromisoformat,
    bool: bool,
    int: int,
    float: float,
    str: str,
}


def _reader(hint: Any) -> tuple[Callable[[Any], Any], bool]:
    """Return how to read a stored value of type `hint`, and whether None is allowed."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        hint = arguments[0]
    origin = typing.get_origin(hint)
    if origin is tuple:
        return _words, optional
    if origin is typing.Literal:
        return str, optional
    return _READERS.get(hint, lambda value: value), optional


@cache
def _plan(cls: Any) -> tuple[tuple[str, Callable[[Any], Any], bool], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((field.name, *_reader(hints[field.name])) for field in dataclasses.fields(cls))


def from_row(cls: type[T], row: Any) -> T:
    """Build a `cls` dataclass from a row whose columns are named like its fields (missing ones keep defaults).

    `row` is anything with `keys()` and item access by column name (sqlite3.Row, a mapping).
    """
    columns = set(row.keys())
    values = {}
    for name, read, optional in _plan(cast(Any, cls)):  # a class is hashable; mypy says type[T] may not be
        if name not in columns:
            continue
        value = row[name]
        values[name] = None if value is None and optional else read(value)
    return cls(**values)
