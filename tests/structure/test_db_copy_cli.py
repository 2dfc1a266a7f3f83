"""`python -m bot db copy SOURCE TARGET [--replace]`: exit codes, the summary on stdout, and never a password."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.db import Database
from tests.processes import run_command

PASSWORD = "s3cret-pw"  # made up; it must never be printed


async def small_source(tmp_path: Path) -> Path:
    """Return a SQLite file holding two meta rows and a settings row."""
    source = tmp_path / "source.sqlite3"
    async with await Database.open(source) as db:
        await db.state.set_meta("a", "1")
        await db.state.set_meta("b", "2")
        await db.polls.set_pdoom_min_respondents(5, 4)
    return source


def with_password(url: str) -> str:
    """Return `url` with PASSWORD set (the test server trusts local connections, so it is sent but not needed)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port}"))


async def test_copy_prints_a_summary_refuses_a_filled_target_and_replaces_it(tmp_path: Path) -> None:
    """Exit 0 with one line per table on stdout; copying again exits 1 with one sentence; --replace exits 0."""
    source = await small_source(tmp_path)
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"  # an absolute path: four slashes
    first = run_command("db", "copy", str(source), target, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"{source} -> {tmp_path / 'target.sqlite3'}"
    assert lines[1].split() == ["table", "rows", "checksum"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:-1]}
    assert rows["meta"] == ["2", "ok"] and rows["pdoom_settings"] == ["1", "ok"] and rows["pdoom_votes"] == ["0", "ok"]
    assert lines[-1] == "Copied 3 rows in 9 tables; every table matches its source."
    again = run_command("db", "copy", str(source), target, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.strip().splitlines() == [
        "TARGET already holds rows (in meta, pdoom_settings); pass --replace to delete them and copy."
    ]
    replaced = run_command("db", "copy", str(source), target, "--replace", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.splitlines()[-1] == "Copied 3 rows in 9 tables; every table matches its source."


def test_usage_errors_exit_2_without_the_password(tmp_path: Path) -> None:
    """A malformed URL or a missing argument is a usage error (2); the URL is quoted with its password hidden."""
    bad = run_command("db", "copy", "a.sqlite3", f"postgresql://bot:{PASSWORD}@db:99999/bot", cwd=tmp_path)
    assert bad.returncode == 2
    assert "postgresql://bot:***@db:99999/bot: the port must be a number" in bad.stderr
    assert PASSWORD not in bad.stderr + bad.stdout
    missing = run_command("db", "copy", "a.sqlite3", cwd=tmp_path)
    assert missing.returncode == 2
    assert "the following arguments are required: target" in missing.stderr


async def test_an_unreachable_target_fails_in_one_sentence_without_the_password(tmp_path: Path) -> None:
    """A PostgreSQL server that does not answer: exit 1, one line naming the redacted URL, no traceback."""
    source = await small_source(tmp_path)
    result = run_command("db", "copy", str(source), f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot", cwd=tmp_path)
    assert result.returncode == 1
    assert PASSWORD not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("TARGET postgresql://bot:***@127.0.0.1:1/bot cannot be opened: ")
    assert not (tmp_path / "bot").exists()


@pytest.mark.postgresql
async def test_copy_into_postgresql_never_prints_the_password(tmp_path: Path, postgres_database: str) -> None:
    """Into PostgreSQL and back: the summary names both databases with the password as ***."""
    source = await small_source(tmp_path)
    url = with_password(postgres_database)
    there = run_command("db", "copy", str(source), url, cwd=tmp_path)
    assert there.returncode == 0, there.stderr
    assert there.stdout.splitlines()[0] == f"{source} -> {url.replace(PASSWORD, '***')}"
    back = run_command("db", "copy", url, str(tmp_path / "back.sqlite3"), cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines()[-1] == "Copied 3 rows in 9 tables; every table matches its source."
    for result in (there, back):
        assert PASSWORD not in result.stdout + result.stderr
