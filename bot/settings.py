"""Settings read from the environment and `.env`, built once in `main()` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import StartupError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
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
    "content_dir": "a folder path",
}


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
    content_dir: Path = Path("content")
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: LogLevel = "INFO"
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    content_admins: Annotated[frozenset[int], NoDecode] = frozenset()
    source_url: str | None = None

    @field_validator("dev_guild_id", "discord_api_base", "discord_gateway_url", "source_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """Treat `DEV_GUILD_ID=` (as in a copied .env.example) as not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "database_synchronous", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        """Accept `info` as well as `INFO`, `normal` as well as `NORMAL`."""
        return value.strip().upper() if isinstance(value, str) else value

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
        shown = "" if field == "discord_token" else f" (got {str(error.get('input'))[:60]!r})"
        sentences.append(f"Setting {field.upper()} is invalid: it must be {expected}{shown}.")
    return " ".join(sentences)
