"""Settings read from the environment and `.env`, built once in `main()` and passed down."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.shards import EVERY_SHARD, ShardScope, parse_shard_ids
from bot.errors import StartupError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]
Synchronous = Literal["FULL", "NORMAL"]

# Shown when a setting fails validation: what the value must look like, keyed by field name.
_EXPECTED = {
    "dev_guild_id": "a Discord server id (a positive whole number), or empty",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "discord_api_base": "an http(s) URL such as https://discord.com/api/v10, or empty",
    "discord_gateway_url": "a ws(s) URL such as wss://gateway.discord.gg/, or empty",
    "content_admins": "a comma-separated list of Discord user ids",
    "database_path": "a file path",
    "database_synchronous": "FULL or NORMAL",
    "database_url": "a URL such as postgresql://user:password@host:5432/dbname or sqlite:///data/bot.sqlite3, or empty",
    "database_pool_size": "a whole number from 1 to 1000",
    "content_dir": "a folder path",
    "shard_count": "a whole number of shards, 1 or more, or empty",
    "shard_ids": "a list of shard ids and ranges such as 0-3, 4,5,6 or 0-1,3, or empty",
    "shard_lease_wait": "a number of seconds, 0 or more",
    "backup_dir": "a folder path, or empty",
    "backup_keep": "a whole number of backups to keep, 1 or more",
    "backup_interval_hours": "a number of hours greater than 0",
    "health_port": "a TCP port from 1 to 65535, or empty",
    "health_host": "an address to listen on, such as 127.0.0.1 or 0.0.0.0",
    "log_format": "text or json",
    "heartbeat_path": "a file path, or empty",
}

# The error type of a rule whose own sentence says what is wrong (shown as it is, instead of `_EXPECTED`).
_SETTING_RULE = "setting_rule"


def redact_url(text: str) -> str:
    """Return a database URL with its password (in the user part or a `password=` parameter) replaced by ***.

    Works on malformed text too, so an error message can show what was given without the secret: everything
    between the first ':' of the user part and the last '@' before the query goes, even a '/' a password holds.
    """
    scheme, separator, rest = text.partition("://")
    if separator:
        location, question, query = rest.partition("?")
        if "@" in location:
            userinfo, _, host = location.rpartition("@")
            user = userinfo.partition(":")[0]
            location = f"{user}:***@{host}" if ":" in userinfo else f"{userinfo}@{host}"
        text = f"{scheme}://{location}{question}{query}"
    return re.sub(r"(?i)(\bpassword=)[^&]*", r"\1***", text)


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """Where the bot keeps its data: a SQLite file (`path`), or a PostgreSQL server (`url`, password included)."""

    backend: Literal["sqlite", "postgresql"]
    path: Path | None = None
    url: str | None = None

    @property
    def redacted(self) -> str:
        """Say which database this is, fit for messages and logs: never the password."""
        return redact_url(self.url) if self.url is not None else str(self.path)

    def __repr__(self) -> str:
        return f"DatabaseTarget({self.backend}, {self.redacted})"


def parse_database_url(text: str) -> DatabaseTarget:
    """Read DATABASE_URL: postgresql:// (or postgres://) URLs, or sqlite:///relative and sqlite:////absolute paths."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///data/bot.sqlite3 is the relative path data/bot.sqlite3; a fourth slash makes it absolute.
        if parts.netloc or parts.query or len(parts.path) < 2 or not parts.path.startswith("/"):
            raise ValueError("a sqlite URL is sqlite:///relative/path or sqlite:////absolute/path")
        return DatabaseTarget("sqlite", path=Path(parts.path[1:]))
    if scheme not in ("postgresql", "postgres"):
        raise ValueError("the URL must start with postgresql://, postgres:// or sqlite:///")
    try:
        _ = parts.port
    except ValueError:  # urllib's own message quotes the port text, which can be part of a password
        raise ValueError("the port must be a number from 0 to 65535") from None
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("a postgresql URL needs a host")
    return DatabaseTarget("postgresql", url=text.strip())


class Settings(BaseSettings):
    """Every setting the bot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_nested_delimiter="__",
        frozen=True,
    )

    discord_token: SecretStr | None = None
    database_path: Path = Path("data/bot.sqlite3")
    # FULL: a commit is on disk before the member is told, even across a power loss. NORMAL trades that for speed.
    database_synchronous: Synchronous = "FULL"
    # Optional: postgresql://... selects PostgreSQL; sqlite:///... is another spelling of DATABASE_PATH.
    database_url: SecretStr | None = None
    # PostgreSQL only: the most connections the bot holds open at once.
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    content_dir: Path = Path("content")
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: LogLevel = "INFO"
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    content_admins: Annotated[frozenset[int], NoDecode] = frozenset()
    source_url: str | None = None
    # Optional: how many shards the bot runs in all, and (with several processes) which of them this process runs.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[frozenset[int] | None, NoDecode] = None
    # PostgreSQL only: how long to wait for another process to let go of this one's shards before refusing to start.
    shard_lease_wait: float = Field(default=60.0, ge=0)
    # Optional automatic backups of the SQLite database: a folder, how many to keep, and how often.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=14, ge=1)
    backup_interval_hours: float = Field(default=24.0, gt=0)
    # Optional HTTP listener for /healthz, /readyz and /metrics: off unless HEALTH_PORT is set.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"
    # text for people reading a terminal, json (one object per line) for log shippers.
    log_format: LogFormat = "text"
    # Optional: the file the bot rewrites every 15 s for `python -m bot health`; empty: see `heartbeat_file`.
    heartbeat_path: Path | None = None

    @field_validator(
        "dev_guild_id",
        "discord_api_base",
        "discord_gateway_url",
        "source_url",
        "database_url",
        "shard_count",
        "backup_dir",
        "health_port",
        "heartbeat_path",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """Treat `DEV_GUILD_ID=` (as in a copied .env.example) as not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "database_synchronous", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        """Accept `info` as well as `INFO`, `normal` as well as `NORMAL`."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        """Accept `JSON` as well as `json`."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("discord_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """Require an http(s) base URL and drop a trailing slash so routes join cleanly."""
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        """Require a websocket URL."""
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse a URL that names no database the bot can use (the message never shows the password)."""
        if value is not None:
            parse_database_url(value.get_secret_value())
        return value

    @property
    def database(self) -> DatabaseTarget:
        """Return the database to use: DATABASE_URL when set, else the SQLite file DATABASE_PATH."""
        if self.database_url is None:
            return DatabaseTarget("sqlite", path=self.database_path)
        return parse_database_url(self.database_url.get_secret_value())

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: Any) -> Any:
        """Parse `SHARD_IDS=0-1,3` into a set of ids; empty is unset."""
        if isinstance(value, str):
            return parse_shard_ids(value) if value.strip() else None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit_the_count(cls, value: frozenset[int] | None, info: ValidationInfo) -> frozenset[int] | None:
        """Require SHARD_COUNT with SHARD_IDS, and every id below it."""
        if value is None or "shard_count" not in info.data:  # (an invalid SHARD_COUNT is reported on its own)
            return value
        count = info.data["shard_count"]
        if count is None:
            raise PydanticCustomError(
                _SETTING_RULE, "it needs SHARD_COUNT, the number of shards of all processes together, set too"
            )
        if not value:
            raise PydanticCustomError(_SETTING_RULE, "it must name at least one shard")
        too_high = sorted(shard_id for shard_id in value if shard_id >= count)
        if too_high:
            raise PydanticCustomError(
                _SETTING_RULE,
                "shard {shard} does not exist with SHARD_COUNT={count}: shard ids run from 0 to {last}",
                {"shard": too_high[0], "count": count, "last": count - 1},
            )
        return value

    @property
    def heartbeat_file(self) -> Path:
        """Return HEARTBEAT_PATH, or by default a file beside the SQLite database (the temp folder on PostgreSQL)."""
        if self.heartbeat_path is not None:
            return self.heartbeat_path
        path = self.database.path
        if path is not None:
            return path.with_name(f"{path.name}.heartbeat")
        return Path(tempfile.gettempdir()) / "alignment-bot.heartbeat"

    @property
    def shard_scope(self) -> ShardScope:
        """Return the servers this process looks after: every one unless SHARD_IDS names some of the shards."""
        if self.shard_ids is None or self.shard_count is None:
            return EVERY_SHARD
        return ShardScope(self.shard_count, self.shard_ids)

    @field_validator("content_admins", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        """Parse `CONTENT_ADMINS=123,456` into a set of ids."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    def require_token(self) -> str:
        """Return the bot token, or stop start-up with a sentence saying how to provide one."""
        token = self.discord_token.get_secret_value().strip() if self.discord_token else ""
        if not token:
            raise StartupError(
                "DISCORD_TOKEN is not set: put your bot token in the environment or in a .env file "
                "(copy .env.example to .env and fill it in)."
            )
        return token


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one sentence per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise StartupError(describe_settings_error(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    """Name each invalid setting by its environment variable, never echoing a secret value."""
    sentences = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        expected = _EXPECTED.get(field, error["msg"])
        given = str(error.get("input"))
        if field == "database_url":
            given = redact_url(given)
        shown = "" if field == "discord_token" else f" (got {given[:60]!r})"
        if error["type"] == _SETTING_RULE:
            sentences.append(f"Setting {field.upper()} is invalid: {error['msg']}{shown}.")
        else:
            sentences.append(f"Setting {field.upper()} is invalid: it must be {expected}{shown}.")
    return " ".join(sentences)
