"""Settings: defaults, parsing, and one clear sentence per invalid value."""

from pathlib import Path

import pytest

from bot.errors import StartupError
from bot.settings import load_settings

SETTING_NAMES = (
    "DISCORD_TOKEN",
    "DATABASE_PATH",
    "DATABASE_SYNCHRONOUS",
    "CONTENT_DIR",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "CONTENT_ADMINS",
    "SOURCE_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test in an empty folder (no .env) with none of the bot's variables set."""
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    """Without any settings, paths default under the working folder and optional values are unset."""
    settings = load_settings()
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.content_dir == Path("content")
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.content_admins == frozenset()
    assert settings.database_synchronous == "FULL"


def test_missing_token_names_the_setting_and_the_example_file() -> None:
    """Asking for a token that is not set gives one sentence naming DISCORD_TOKEN and .env.example."""
    with pytest.raises(StartupError) as caught:
        load_settings().require_token()
    assert "DISCORD_TOKEN" in str(caught.value)
    assert ".env.example" in str(caught.value)


def test_reads_dotenv_file(tmp_path: Path) -> None:
    """Values in ./.env are read, and an empty DEV_GUILD_ID counts as unset."""
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc.def\nDEV_GUILD_ID=\nLOG_LEVEL=debug\nCONTENT_ADMINS=1, 22,333\n")
    settings = load_settings()
    assert settings.require_token() == "abc.def"
    assert settings.dev_guild_id is None
    assert settings.log_level == "DEBUG"
    assert settings.content_admins == frozenset({1, 22, 333})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEV_GUILD_ID", "my-server"),
        ("DEV_GUILD_ID", "-4"),
        ("LOG_LEVEL", "loud"),
        ("DISCORD_API_BASE", "ftp://example"),
        ("DISCORD_GATEWAY_URL", "https://not-a-websocket"),
        ("CONTENT_ADMINS", "alice,bob"),
        ("DATABASE_SYNCHRONOUS", "OFF"),
    ],
)
def test_invalid_values_fail_with_a_sentence_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """An invalid value stops start-up with a sentence that names the environment variable."""
    monkeypatch.setenv(name, value)
    with pytest.raises(StartupError) as caught:
        load_settings()
    assert f"Setting {name} is invalid" in str(caught.value)


def test_token_never_appears_in_errors_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is kept secret: not in the settings' repr nor in another setting's error."""
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token")
    assert "super-secret-token" not in repr(load_settings())
    monkeypatch.setenv("LOG_LEVEL", "nope")
    with pytest.raises(StartupError) as caught:
        load_settings()
    assert "super-secret-token" not in str(caught.value)


def test_database_synchronous_may_be_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_SYNCHRONOUS=normal (any case) lowers durability to NORMAL."""
    monkeypatch.setenv("DATABASE_SYNCHRONOUS", "normal")
    assert load_settings().database_synchronous == "NORMAL"
