"""Backups of the running bot's database through the fake Discord: during a vote burst, and on the bot's schedule."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db.backup import backup_sqlite, list_backups, restore_sqlite
from tests.db.test_auto_backups import until
from tests.e2e.conftest import BotRunner, Server
from tests.e2e.test_pdoom import open_poll
from tests.fakediscord import FakeDiscord, Interaction

VOTERS = 120


def sqlite_only(runner: BotRunner) -> None:
    """Skip when E2E_BACKEND=postgresql put the bot's database on PostgreSQL: these back up its SQLite file."""
    if runner.postgres_url is not None:
        pytest.skip("backs up the bot's SQLite file; PostgreSQL is backed up with pg_dump")


async def test_a_backup_during_a_vote_burst_holds_every_vote_acknowledged_before_it(
    fake: FakeDiscord, server: Server, runner: BotRunner, tmp_path: Path
) -> None:
    """120 members vote at once; a backup taken mid-burst restores to a sound file with every vote acked before it."""
    sqlite_only(runner)
    members = [server.guild.add_member(f"voter{i}") for i in range(VOTERS)]
    await runner.start()
    poll = await open_poll(fake, server)
    round_id = poll.custom_ids[0].split(":")[3]
    handles: list[Interaction] = []

    async def click_all() -> None:
        for i, member in enumerate(members):
            handles.append(await fake.click(member, poll, f"align:pdoom:b:{round_id}:{i % 8}"))

    def acknowledged() -> set[int]:
        return {handle.user.id for handle in handles if handle.acknowledged}

    clicking = asyncio.create_task(click_all())
    await fake.changed.wait_for(lambda: len(acknowledged()) >= 20, 20, "20 acknowledged votes")
    before = acknowledged()  # every vote the bot had confirmed to its member when the backup began
    made = await asyncio.to_thread(backup_sqlite, runner.database_path, tmp_path / "backups")
    await clicking
    await fake.changed.wait_for(lambda: len(acknowledged()) == VOTERS, 30, "every vote acknowledged")
    assert len(before) < VOTERS, "the backup should begin mid-burst"

    restored = restore_sqlite(made.path, tmp_path / "restored" / "bot.sqlite3")
    with closing(sqlite3.connect(restored.database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        current = {row[0] for row in conn.execute("SELECT user_id FROM pdoom_current")}
        submissions = conn.execute("SELECT user_id, count(*) FROM pdoom_votes GROUP BY user_id").fetchall()
    assert before <= current
    assert all(count == 1 for _, count in submissions)


async def test_the_bot_backs_up_on_its_schedule_and_stops_with_it(
    fake: FakeDiscord, server: Server, runner: BotRunner, tmp_path: Path
) -> None:
    """BACKUP_DIR set: a backup at start, one a day after, the oldest pruned to BACKUP_KEEP; closing stops the loop."""
    sqlite_only(runner)
    folder = tmp_path / "automatic"
    runner.settings_overrides = {"backup_dir": folder, "backup_keep": 2, "backup_interval_hours": 24}
    bot = await runner.start()
    backups = bot.backups
    assert backups is not None
    await until(lambda: backups.last_backup is not None)
    for _ in range(2):
        assert backups.last_backup is not None
        due, previous = backups.last_backup.taken_at + timedelta(hours=24), backups.last_backup
        await until(lambda: due in runner.clock.sleepers)  # noqa: B023 - used at once, inside the iteration
        await runner.clock.set(due)
        await until(lambda: backups.last_backup is not previous)  # noqa: B023
    assert [backup.taken_at for backup in list_backups(folder)] == [
        runner.clock.now() - timedelta(hours=24),
        runner.clock.now(),
    ]
    assert backups.last_error is None
    await runner.stop()
    assert not backups.loop.running
