"""Settings: defaults, parsing, and one clear sentence per invalid value."""

from pathlib import Path

import pytest

from bot.errors import StartupError
from bot.settings import DatabaseTarget, load_settings, redact_url

SETTING_NAMES = (
    "DISCORD_TOKEN",
    "DATABASE_PATH",
    "DATABASE_SYNCHRONOUS",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "CONTENT_DIR",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "CONTENT_ADMINS",
    "SOURCE_URL",
    "SHARD_COUNT",
    "SHARD_IDS",
    "SHARD_LEASE_WAIT",
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
        ("DATABASE_URL", "mysql://bot:pw@db/bot"),
        ("DATABASE_URL", "sqlite://data/bot.sqlite3"),
        ("DATABASE_URL", "postgresql://bot:pw@db:port/bot"),
        ("DATABASE_POOL_SIZE", "0"),
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


def test_without_database_url_the_sqlite_file_is_database_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset (or empty) DATABASE_URL leaves DATABASE_PATH in charge, as before the setting existed."""
    assert load_settings().database == DatabaseTarget("sqlite", path=Path("data/bot.sqlite3"))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("DATABASE_PATH", "other/bot.sqlite3")
    assert load_settings().database == DatabaseTarget("sqlite", path=Path("other/bot.sqlite3"))
    assert load_settings().database_pool_size == 10


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.sqlite3", DatabaseTarget("sqlite", path=Path("data/bot.sqlite3"))),
        ("sqlite:////var/lib/bot/bot.sqlite3", DatabaseTarget("sqlite", path=Path("/var/lib/bot/bot.sqlite3"))),
        ("postgresql://bot:pw@db:5432/bot", DatabaseTarget("postgresql", url="postgresql://bot:pw@db:5432/bot")),
        ("postgres://bot@db/bot", DatabaseTarget("postgresql", url="postgres://bot@db/bot")),
    ],
)
def test_database_url_selects_the_backend(monkeypatch: pytest.MonkeyPatch, url: str, expected: DatabaseTarget) -> None:
    """postgresql:// and postgres:// select PostgreSQL; sqlite:/// (three slashes: relative, four: absolute) a file."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    settings = load_settings()
    assert settings.database == expected
    assert settings.database_pool_size == 3


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:hunter2@db:5432/bot", "postgresql://bot:***@db:5432/bot"),
        ("postgresql://bot:hun/ter@2@db/bot?sslmode=require", "postgresql://bot:***@db/bot?sslmode=require"),
        ("postgresql://db/bot?user=bot&password=hunter2", "postgresql://db/bot?user=bot&password=***"),
        ("postgresql://bot@db/bot", "postgresql://bot@db/bot"),
    ],
)
def test_the_redacted_url_hides_the_password(url: str, shown: str) -> None:
    """The display form of a URL keeps everything but the password, even one holding '/' or '@'."""
    assert redact_url(url) == shown
    assert DatabaseTarget("postgresql", url=url).redacted == shown
    assert "hunter2" not in repr(DatabaseTarget("postgresql", url=url))


@pytest.mark.parametrize(
    "url", ["postgresql://bot:hunter2@db:port/bot", "postgresql://bot:hun/ter2@db/bot", "mysql://bot:hunter2@db/bot"]
)
def test_a_malformed_database_url_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A bad DATABASE_URL is one sentence naming the setting; neither it nor the settings' repr shows the password."""
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(StartupError) as caught:
        load_settings()
    assert "Setting DATABASE_URL is invalid" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "hun/ter2" not in str(caught.value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@db/bot")
    assert "hunter2" not in repr(load_settings())


def test_shards_unset_means_every_shard_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither setting (or both empty): discord.py picks the count, and this process looks after every server."""
    assert load_settings().shard_count is None and load_settings().shard_ids is None
    monkeypatch.setenv("SHARD_COUNT", "")
    monkeypatch.setenv("SHARD_IDS", " ")
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids) == (None, None)
    assert settings.shard_scope.everything


def test_the_shard_lease_wait_defaults_to_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new process waits 60 s for an old one to let go of its shards (PostgreSQL), or as long as set; 0 is allowed."""
    assert load_settings().shard_lease_wait == 60
    monkeypatch.setenv("SHARD_LEASE_WAIT", "0")
    assert load_settings().shard_lease_wait == 0
    monkeypatch.setenv("SHARD_LEASE_WAIT", "2.5")
    assert load_settings().shard_lease_wait == 2.5


def test_shard_ids_are_read_as_ids_and_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHARD_COUNT=8 with SHARD_IDS=0-1,3 runs shards 0, 1 and 3 of 8; SHARD_COUNT alone runs all of them."""
    monkeypatch.setenv("SHARD_COUNT", "8")
    assert load_settings().shard_scope.everything
    monkeypatch.setenv("SHARD_IDS", "0-1,3")
    settings = load_settings()
    assert settings.shard_count == 8 and settings.shard_ids == frozenset({0, 1, 3})
    assert settings.shard_scope.count == 8 and settings.shard_scope.ids == frozenset({0, 1, 3})


@pytest.mark.parametrize(
    ("environment", "sentence"),
    [
        ({"SHARD_COUNT": "0"}, "Setting SHARD_COUNT is invalid: it must be a whole number of shards, 1 or more"),
        ({"SHARD_COUNT": "four"}, "Setting SHARD_COUNT is invalid: it must be a whole number of shards"),
        ({"SHARD_IDS": "0-1"}, "Setting SHARD_IDS is invalid: it needs SHARD_COUNT"),
        (
            {"SHARD_COUNT": "4", "SHARD_IDS": "2-4"},
            "shard 4 does not exist with SHARD_COUNT=4: shard ids run from 0 to 3",
        ),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "Setting SHARD_IDS is invalid: it must be a list of shard ids"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "one"}, "such as 0-3, 4,5,6 or 0-1,3"),
        ({"SHARD_LEASE_WAIT": "-1"}, "Setting SHARD_LEASE_WAIT is invalid: it must be a number of seconds, 0 or more"),
        ({"SHARD_LEASE_WAIT": "soon"}, "Setting SHARD_LEASE_WAIT is invalid: it must be a number of seconds"),
    ],
)
def test_invalid_shard_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], sentence: str
) -> None:
    """Each bad shard setting stops start-up with one sentence naming it and showing the value given."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StartupError) as caught:
        load_settings()
    message = str(caught.value)
    assert sentence in message
    assert message.count("Setting ") == 1 and message.endswith(".")
