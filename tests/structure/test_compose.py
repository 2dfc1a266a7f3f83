"""docker-compose.yml runs the bot on PostgreSQL; no Docker engine runs here, so its wiring is checked as data."""

import re
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


def dockerfile_env(name: str) -> str:
    """Return the value the Dockerfile's ENV gives `name`."""
    match = re.search(rf"\b{name}=(\S+)", (ROOT / "Dockerfile").read_text())
    assert match, f"the Dockerfile sets no {name}"
    return match.group(1)


def test_the_content_folder_is_mounted_where_the_image_reads_it() -> None:
    """The bot mounts ./content at the image's CONTENT_DIR, so /content put edits live outside the container."""
    mounts = [volume.split(":") for volume in compose()["services"]["bot"]["volumes"]]
    assert ["./content", dockerfile_env("CONTENT_DIR")] in [mount[:2] for mount in mounts]
    assert (ROOT / "content").is_dir()


def test_the_image_bakes_its_content_read_only_for_the_bot() -> None:
    """The image's content is root's, not the bot user's: an unmounted image refuses edits instead of losing them."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copies = [line for line in lines if re.match(r"COPY\b.*\bcontent/", line)]
    assert copies == ["COPY content/ content/"]  # no --chown: root keeps it, and the bot runs as another user
    assert lines.index(copies[0]) < lines.index("USER bot")
