"""Logging set-up: one handler to stdout, which is what Docker and systemd expect; text for people, or JSON lines.

Whatever the format, the handler's formatter replaces the bot token and the database password wherever they appear
in a formatted line (message, arguments, traceback): a last line of defence, since no code should log them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Shorter values are not hunted for: replacing a two-letter password everywhere would garble every line.
MIN_SECRET_LENGTH = 6


class Redactor:
    """Replaces each secret in a text by [redacted]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Return `text` without any secret."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class TextFormatter(logging.Formatter):
    """The human-readable line, secrets removed."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(LOG_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then remove secrets from the whole line (traceback included)."""
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message; exception and guild_id when the record has them."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON, secrets removed from every text field."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        guild_id = getattr(record, "guild_id", None)  # set by log calls with extra={"guild_id": ...}
        if guild_id is not None:
            entry["guild_id"] = guild_id
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redact(self.formatStack(record.stack_info))
        # ensure_ascii: a log shipper never meets a stray encoding problem; default=str for odd extras.
        return json.dumps(entry, default=str)


def secrets_of(settings: Settings) -> list[str]:
    """Return the values no log line may show: the bot token and the database password (as written and decoded)."""
    found = []
    if settings.discord_token is not None:
        found.append(settings.discord_token.get_secret_value().strip())
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            password = userinfo.partition(":")[2]
            found += [password, unquote(password)]
        found += parse_qs(parts.query).get("password", [])
    return found


def setup_logging(level: str, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send every log record at `level` or above to stdout, as text or JSON lines, never showing a secret."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Every REST call is logged at DEBUG/INFO by discord.http; rate-limit warnings still get through.
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
