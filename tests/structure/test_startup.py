"""Start-up failures of `python -m bot` are one `Cannot start:` sentence naming the setting or file, never a traceback.

Each of these fails before the bot connects to Discord, so a dummy token is enough.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL, database_url
from tests.processes import ROOT, run_command

VALID_CONTENT = ROOT / "tests" / "fixtures" / "content" / "valid"

# Hostile YAML: each must be refused as content, not expanded, recursed into or converted.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)
HOSTILE_YAML = {
    "alias bomb": ALIAS_BOMB,
    "self-referencing alias": "a: &a [*a]\n",
    "5,000-digit integer": "estimates:\n  - value: " + "9" * 5000 + "\n",
}


def start(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` in `tmp_path` with a dummy token, valid content and the given settings."""
    return run_command(cwd=tmp_path, **{"DISCORD_TOKEN": "dummy-token", "CONTENT_DIR": str(VALID_CONTENT), **settings})


def the_sentence(result: subprocess.CompletedProcess[str]) -> str:
    """Check the run failed with exit 1 and exactly one line on stderr, and return that line."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot start: ")
    return lines[0]


@pytest.mark.parametrize(
    "contents",
    [b"This is a text file, not a database.\n" * 200, b"SQLite format 3\x00" + b"\xff" * 8176],
    ids=["text file", "damaged header"],
)
def test_a_file_that_is_not_a_database_is_named(tmp_path: Path, contents: bytes) -> None:
    """A non-SQLite or damaged DATABASE_PATH stops start-up with one sentence naming the setting."""
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(contents)
    line = the_sentence(start(tmp_path, DATABASE_PATH=str(database)))
    assert f"DATABASE_PATH={database} is not a SQLite database, or it is damaged" in line


def test_a_database_with_a_damaged_schema_is_named(tmp_path: Path) -> None:
    """A database whose first page (the schema) is overwritten stops start-up with one sentence naming it."""
    database = tmp_path / "bot.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # keep the 100-byte header, destroy the schema b-tree page
    database.write_bytes(bytes(data))
    line = the_sentence(start(tmp_path, DATABASE_PATH=str(database)))
    assert f"DATABASE_PATH={database}" in line


def test_a_database_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    """DATABASE_PATH pointing at a folder stops start-up with one sentence naming the setting."""
    line = the_sentence(start(tmp_path, DATABASE_PATH=str(tmp_path)))
    assert f"DATABASE_PATH={tmp_path} is a folder" in line


# The tests run as root here, and chmod does not stop root from writing, so a read-only folder can't be made with
# chmod. sysfs refuses to create files and folders for every user, root included (EACCES / EPERM), so /sys is a
# place where writing reliably fails, as on a read-only file system.
@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux's /sys as a location nobody can write to")
@pytest.mark.parametrize(
    "database", ["/sys/bot.sqlite3", "/sys/alignment-bot-test/bot.sqlite3"], ids=["existing folder", "new folder"]
)
def test_an_unwritable_location_is_named(tmp_path: Path, database: str) -> None:
    """A DATABASE_PATH where nothing can be written stops start-up with one sentence naming the setting."""
    line = the_sentence(start(tmp_path, DATABASE_PATH=database))
    assert f"DATABASE_PATH={database} cannot be used" in line


@pytest.mark.parametrize("yaml_text", HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys())
def test_hostile_yaml_is_named_by_file_and_line(tmp_path: Path, yaml_text: str) -> None:
    """An alias bomb, a recursive alias or a huge integer stops start-up with one sentence naming file and line."""
    content = tmp_path / "content"
    shutil.copytree(VALID_CONTENT, content)
    (content / "references.yaml").write_text(yaml_text)
    line = the_sentence(start(tmp_path, CONTENT_DIR=str(content), DATABASE_PATH=str(tmp_path / "bot.sqlite3")))
    assert "content/references.yaml:" in line


def test_a_wrong_content_dir_creates_no_database(tmp_path: Path) -> None:
    """Started from a folder without content, the bot names CONTENT_DIR's folder and leaves no data/ folder behind."""
    result = run_command(cwd=tmp_path, DISCORD_TOKEN="dummy-token")
    line = the_sentence(result)
    assert "content: is not a folder (check CONTENT_DIR)" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgresql_server_is_named_without_the_password(tmp_path: Path) -> None:
    """A DATABASE_URL whose server does not answer stops start-up with one sentence, its password replaced by ***."""
    result = start(tmp_path, DATABASE_URL="postgresql://bot:hunter2@127.0.0.1:1/bot")
    line = the_sentence(result)
    assert "DATABASE_URL=postgresql://bot:***@127.0.0.1:1/bot: the PostgreSQL server cannot be reached" in line
    assert "hunter2" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []  # no SQLite file or lock was made on the side


@pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIP_REASON)
def test_a_missing_postgresql_database_is_named(tmp_path: Path) -> None:
    """A DATABASE_URL naming a database the server does not have stops start-up saying so."""
    url = database_url("no_such_database_for_the_bot")
    line = the_sentence(start(tmp_path, DATABASE_URL=url))
    assert f"DATABASE_URL={url}: that database does not exist" in line
