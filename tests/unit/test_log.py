"""The log formatters: JSON lines that parse, and secrets removed from every line whatever the format."""

from __future__ import annotations

import json
import logging
import sys

from bot.log import REDACTED, JsonFormatter, Redactor, TextFormatter, secrets_of
from bot.settings import Settings

TOKEN = "MTE0.fake-token.abcdefXYZ"
PASSWORD = "s3cret-pa%40ss"


def record(message: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    """Build a log record as logging would, with an exception if asked."""
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            exc_info = sys.exc_info()
    made = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_json_lines_parse_and_carry_the_guild_id_and_exception() -> None:
    """One JSON object per record, with time, level, logger, message, guild_id when given, and the traceback."""
    line = JsonFormatter(Redactor([])).format(record("Posted in guild %s", 42, exc=True, guild_id=42))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.test"
    assert entry["message"] == "Posted in guild 42" and entry["guild_id"] == 42
    assert entry["time"].endswith("+00:00")
    assert entry["exception"].startswith("Traceback") and "RuntimeError" in entry["exception"]


def test_secrets_never_survive_either_format() -> None:
    """The token and the database password are replaced in the message, its arguments and the traceback."""
    settings = Settings(discord_token=TOKEN, database_url=f"postgresql://bot:{PASSWORD}@db:5432/bot")
    redact = Redactor(secrets_of(settings))
    made = record("token %s url %s", TOKEN, f"postgresql://bot:{PASSWORD}@db/bot", exc=True)
    for formatter in (TextFormatter(redact), JsonFormatter(redact)):
        line = formatter.format(made)
        assert TOKEN not in line and PASSWORD not in line and REDACTED in line
        made.exc_text = None  # formatted afresh by the next formatter
    decoded = "s3cret-pa@ss"  # the password as the URL encodes it, and as asyncpg would show it
    assert decoded not in redact(f"password {decoded}")


def test_short_values_are_not_hunted() -> None:
    """A value too short to be a secret worth hunting for is not replaced everywhere."""
    assert Redactor(["ab"])("a table") == "a table"
