"""docker-compose.yml runs the bot on PostgreSQL; no Docker engine runs here, so its wiring is checked as data."""

from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    """Return the parsed compose file."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_bot_waits_for_a_healthy_database_on_a_named_volume() -> None:
    """The database keeps its data in a named volume, has a health check, and the bot starts only once it passes."""
    services = compose()["services"]
    db, bot = services["db"], services["bot"]
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"] == "." and (ROOT / "Dockerfile").exists()


def test_the_bots_database_url_names_the_database_service_and_is_valid() -> None:
    """DATABASE_URL points at the db service, with its user and database, and the bot's settings accept it."""
    services = compose()["services"]
    db = services["db"]["environment"]
    url = services["bot"]["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD}", "secret")
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("postgresql", "db", 5432)
    assert (parts.username, parts.path.lstrip("/")) == (db["POSTGRES_USER"], db["POSTGRES_DB"])
    assert "${POSTGRES_PASSWORD" in db["POSTGRES_PASSWORD"]  # the password lives in .env, not in the file
    assert Settings(database_url=url).database.backend == "postgresql"
