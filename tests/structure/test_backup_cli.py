"""`python -m bot db backup / restore / check` as real processes: exit codes, output, and a running bot respected."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.db import Database
from bot.db.backup import latest_schema_version, list_backups
from tests.db.test_backup import bot_database, damage, meta_rows
from tests.fakediscord import FakeDiscord, running_fake
from tests.processes import bot_environment, command_environment, run_command, start_process

PASSWORD = "backup-cli-secret"  # sent to a server that trusts local connections; it must never be printed
LATEST = latest_schema_version()


async def test_backup_check_and_restore(tmp_path: Path) -> None:
    """Backups into the default folder and a named file, check on a sound and a damaged file, restore; exit codes."""
    database = await bot_database(tmp_path / "data" / "bot.sqlite3", version="one")
    settings = {"DATABASE_PATH": str(database)}

    made = run_command("db", "backup", cwd=tmp_path, **settings)
    assert made.returncode == 0, made.stderr
    [backup] = list_backups(tmp_path / "data" / "backups")
    assert backup.path.name.endswith(f"Z-v{LATEST:04d}.sqlite3")
    assert made.stdout.startswith(f"Backed up {database} to {backup.path} (")
    assert made.stdout.endswith(f", schema version {LATEST}, integrity ok).\n") and made.stderr == ""

    named = run_command("db", "backup", "before-upgrade.sqlite3", cwd=tmp_path, **settings)
    assert named.returncode == 0, named.stderr
    assert meta_rows(tmp_path / "before-upgrade.sqlite3") == {"version": "one"}

    checked = run_command("db", "check", cwd=tmp_path, **settings)
    assert (checked.returncode, checked.stderr) == (0, ""), checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[:2] == [f"Database:       {database} (SQLite)", "Integrity:      ok"]
    assert ["meta", "1"] in [line.split() for line in lines] and lines[-1] == "Result:         ok"

    damage(database)
    broken = run_command("db", "check", cwd=tmp_path, **settings)
    assert broken.returncode == 1
    assert "Integrity:      DAMAGED" in broken.stdout
    assert broken.stderr.splitlines() == [
        f"{database} fails SQLite's integrity check: it is damaged; restore a backup taken before the damage "
        "(python -m bot db restore PATH)."
    ]

    restored = run_command("db", "restore", str(backup.path), cwd=tmp_path, **settings)
    assert restored.returncode == 0, restored.stderr
    out = restored.stdout.splitlines()
    assert out[0] == f"Restored {database} from {backup.path} (schema version {LATEST}, integrity ok)."
    assert out[1].startswith(f"The database it replaced is kept as {database}.replaced-")
    assert run_command("db", "check", cwd=tmp_path, **settings).returncode == 0
    assert meta_rows(database) == {"version": "one"}


def test_missing_database_and_backup_are_one_sentence(tmp_path: Path) -> None:
    """Nothing at DATABASE_PATH, or no such backup file: exit 1 with the sentence and nothing on stdout."""
    settings = {"DATABASE_PATH": str(tmp_path / "none.sqlite3")}
    for args, sentence in [
        (("db", "backup"), f"There is no database at {tmp_path / 'none.sqlite3'} to back up."),
        (("db", "check"), f"There is no database at {tmp_path / 'none.sqlite3'}."),
        (("db", "restore", "nowhere.sqlite3"), "There is no backup file at nowhere.sqlite3."),
    ]:
        result = run_command(*args, cwd=tmp_path, **settings)
        assert (result.returncode, result.stdout, result.stderr.splitlines()) == (1, "", [sentence])
    assert not (tmp_path / "none.sqlite3").exists()


def test_postgresql_backups_are_pg_dumps(tmp_path: Path) -> None:
    """On PostgreSQL, backup and restore say to use pg_dump / pg_restore (exit 1), never showing the password."""
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot"
    backup = run_command("db", "backup", cwd=tmp_path, DATABASE_URL=url)
    restore = run_command("db", "restore", "dump.sqlite3", cwd=tmp_path, DATABASE_URL=url)
    assert (backup.returncode, restore.returncode) == (1, 1)
    assert backup.stderr.splitlines() == [
        "DATABASE_URL points at PostgreSQL, and db backup works on SQLite files only: back it up with pg_dump -Fc "
        "(see the README's section on backups)."
    ]
    assert "restore a pg_dump -Fc file with pg_restore" in restore.stderr
    assert PASSWORD not in backup.stdout + backup.stderr + restore.stdout + restore.stderr


async def test_check_on_postgresql_never_prints_the_password(tmp_path: Path, postgres_database: str) -> None:
    """Checking the DATABASE_URL database: the report, exit 0, the URL shown with *** for the password."""
    await (await Database.open(postgres_database)).close()
    parts = urlsplit(postgres_database)
    url = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port}"))
    result = run_command("db", "check", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Database:       {url.replace(PASSWORD, '***')} (PostgreSQL)"
    assert PASSWORD not in result.stdout + result.stderr


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Return a running fake Discord with one server in it."""
    async with running_fake() as fake:
        fake.add_guild("Alignment Reading Group").add_text_channel("general")
        yield fake


async def restore_command(backup: Path, database: Path) -> tuple[int, str, str]:
    """Run `python -m bot db restore BACKUP` without blocking the fake Discord's event loop; return code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "restore",
        str(backup),
        cwd=database.parent,
        env=command_environment(DATABASE_PATH=str(database)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_restore_is_refused_while_the_bot_runs(fake: FakeDiscord, tmp_path: Path) -> None:
    """A real `python -m bot` on the database: restore exits 1 naming its pid; once it has stopped, restore works."""
    database = tmp_path / "bot.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    await bot_database(tmp_path / "other.sqlite3", source="backup")
    assert (
        run_command("db", "backup", str(backup), cwd=tmp_path, DATABASE_PATH=str(tmp_path / "other.sqlite3")).returncode
        == 0
    )
    bot = await start_process(fake, bot_environment(fake, database))
    try:
        code, stdout, stderr = await restore_command(backup, database)
        assert (code, stdout) == (1, "")
        assert stderr.splitlines() == [
            f"A bot process (pid {bot.pid}) is using {database}; stop it before restoring, or it would keep writing "
            "to the database being replaced."
        ]
    finally:
        bot.terminate()
        assert await asyncio.wait_for(bot.wait(), 30) == 0
    assert "source" not in meta_rows(database)
    code, stdout, stderr = await restore_command(backup, database)
    assert code == 0, stderr
    assert meta_rows(database) == {"source": "backup"}
