"""/status: an admin sees the bot's whole state privately; members cannot run it; nothing pings anyone."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import bot as package
from bot.bot import AlignmentBot
from bot.domain.status import content_version
from tests.e2e.conftest import CONTENT, BotRunner, LockedOnce, Server, eventually
from tests.e2e.test_pdoom import closer_pass, open_poll, vote
from tests.e2e.test_prompts import DUE, last_outcome, prompt_posts, schedule
from tests.fakediscord import FakeDiscord, Message

FIELDS = [
    "Bot",
    "Database",
    "Backups",
    "Content",
    "P(Doom) round",
    "Next weekly post",
    "Last post",
    "Background jobs",
]


async def status(fake: FakeDiscord, server: Server) -> Message:
    """Run /status as the admin; check the answer is private and pings nobody; return it."""
    handle = await fake.invoke(server.admin, "status", channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert not reply.pinged.any
    return reply


def fields_of(reply: Message) -> dict[str, str]:
    """Return the card's fields by name, checking they are the status card's, in order."""
    fields = reply.embeds[0]["fields"]
    assert [field["name"] for field in fields] == FIELDS
    return {field["name"]: field["value"] for field in fields}


async def closer_failed(bot: AlignmentBot) -> bool:
    """Whether the P(Doom) closer has had a failed pass (for `eventually`)."""
    loop: Any = bot.get_cog("RoundCloser").background  # type: ignore[union-attr]
    return bool(loop.failed_passes)


async def test_an_admin_sees_every_line(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """With a weekly post made, a round open with votes and a failed closer pass, each line says so."""
    bot = await runner.start()
    await schedule(fake, server, server.general)
    await runner.clock.set(DUE)  # the week's prompt goes out
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await eventually(lambda: last_outcome(bot, server))
    poll = await open_poll(fake, server, closes_in_hours=48)
    carol = server.guild.add_member("carol")
    await fake.sync()
    for member in (server.member, carol):
        await vote(fake, member, poll)
    locked = LockedOnce(bot.db.polls.next_closing_time)
    bot.db.polls.next_closing_time = locked  # type: ignore[method-assign]
    await closer_pass(bot)
    await eventually(lambda: closer_failed(bot))

    reply = await status(fake, server)
    embed = reply.embeds[0]
    assert embed["title"] == "Bot status"
    assert embed["description"].startswith("⚠️ Something failed since the start")
    fields = fields_of(reply)
    assert fields["Bot"].startswith(f"Version {package.__version__} · up 7 h")
    assert "Gateway latency: " in fields["Bot"]
    assert fields["Database"].startswith("SQLite (bot.sqlite3), ") or runner.postgres_url
    assert fields["Database"].endswith("KiB") or fields["Database"].endswith("MiB")
    assert fields["Backups"] == "No backup found (BACKUP_DIR is not set)"
    assert fields["Content"].startswith(
        f"Version {content_version(bot.library.store)}, loaded 2026-11-27 12:00 UTC (7 h 0 min ago)\n"
        f"{len(bot.library.store.concepts)} concepts · "
    )
    assert fields["P(Doom) round"] == (
        f"Round 1 is open in <#{server.general.id}>: 2 members have answered, closes 2026-11-29 19:00 UTC."
    )
    assert fields["Next weekly post"] == (
        f"Fridays at 19:00 (Europe/London) in <#{server.general.id}>\n"
        "Friday 04 December 2026, 19:00 Europe/London (2026-12-04 19:00 UTC)"
    )
    assert fields["Last post"] == "Posted prompt #1 for 2026-11-27"
    jobs = fields["Background jobs"].splitlines()
    closer = jobs[0]  # failed jobs come first
    assert closer.startswith("⚠️ **pdoom-closer**: 1 of ") and "passes failed since start" in closer
    assert "last failed 2026-11-27 19:00 UTC (0 s ago)" in closer and "OperationalError: database is locked" in closer
    assert any(line.startswith("✅ **prompts-scheduler**: ") and line.endswith("none failed") for line in jobs)


async def test_a_quiet_server_gets_plain_answers(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """No schedule, no round, nothing failed: each line says so, and how to set things up."""
    fields = fields_of(reply := await status(fake, server))
    assert reply.embeds[0]["description"] == "Everything is running."
    assert fields["P(Doom) round"] == "No round open in this server."
    assert fields["Next weekly post"] == "No weekly prompt is scheduled here; set one with /prompts-admin schedule."
    assert fields["Last post"] == "Nothing posted yet."
    assert all(line.startswith("✅") for line in fields["Background jobs"].splitlines())


async def test_a_paused_schedule_and_a_skipped_week_are_shown(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """Skip says the next post will be skipped; pause says so instead of a time."""
    await schedule(fake, server, server.general)
    await (await fake.invoke(server.admin, "prompts-admin skip", channel=server.general)).reply()
    skipped = fields_of(await status(fake, server))["Next weekly post"]
    assert skipped.endswith("That one will be skipped; the week after is posted.")
    await (await fake.invoke(server.admin, "prompts-admin pause", channel=server.general)).reply()
    paused = fields_of(await status(fake, server))["Next weekly post"]
    assert paused.endswith(", paused (resume with /prompts-admin resume).")


async def test_a_content_reload_shows_its_time_and_new_version(
    fake: FakeDiscord, server: Server, runner: BotRunner, tmp_path: Path
) -> None:
    """After a /content reload of changed content, the card shows the reload's time and a different version."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    runner.content_dir = content
    fake.application_owner = server.admin
    bot = await runner.start()
    before = fields_of(await status(fake, server))["Content"]
    concept = content / "concepts" / "goodharts-law.yaml"
    concept.write_text(concept.read_text().replace("title: Goodhart's law", "title: Goodhart's law (edited)"))
    await runner.clock.advance(timedelta(hours=2))
    reply = await (await fake.invoke(server.admin, "content reload", channel=server.general)).reply()
    assert reply.content.startswith("Reloaded")
    after = fields_of(await status(fake, server))["Content"]
    version = content_version(bot.library.store)
    assert f"Version {version}" not in before
    assert after.startswith(f"Version {version}, loaded 2026-11-27 14:00 UTC (0 s ago)")


async def test_a_member_cannot_run_it(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """A member without Manage Server (past Discord's own hiding) is told why, privately, and sees no status."""
    handle = await fake.invoke(server.member, "status", channel=server.general, check_permissions=False)
    reply = await handle.reply()
    assert handle.ephemeral
    assert reply.content == "You need the Manage Server permission to do that."
    assert reply.embeds == []


async def test_help_lists_status_to_admins_only(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """An admin's /help lists /status among the general commands, marked for admins; a member's does not."""
    admin = await (await fake.invoke(server.admin, "help", channel=server.general)).reply()
    general = admin.embeds[0]["fields"][0]
    assert general["name"] == "General"
    assert any(line.startswith("`/status` ") and line.endswith("*(admins)*") for line in general["value"].splitlines())
    member = await (await fake.invoke(server.member, "help", channel=server.general)).reply()
    assert "/status" not in member.text


async def test_backups_show_the_newest_and_a_failure(
    fake: FakeDiscord, server: Server, runner: BotRunner, tmp_path: Path
) -> None:
    """With BACKUP_DIR set, the newest backup is named with its time; a failing automatic backup is reported."""
    if runner.postgres_url:
        pytest.skip("automatic backups are for SQLite; the PostgreSQL line is covered by the unit tests")
    runner.settings_overrides["backup_dir"] = tmp_path / "backups"
    bot = await runner.start()
    assert bot.backups is not None
    backups = bot.backups

    async def taken() -> bool:
        return backups.last_backup is not None

    await eventually(taken)
    assert backups.last_backup is not None
    shown = fields_of(await status(fake, server))["Backups"]
    assert shown.startswith(f"Last: {backups.last_backup.path.name}, ")
    assert shown.endswith(", 2026-11-27 12:00 UTC (0 s ago)")

    await runner.stop()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    runner.settings_overrides["backup_dir"] = blocker
    bot = await runner.start()
    assert bot.backups is not None
    failing = bot.backups

    async def failed() -> bool:
        return failing.last_error is not None

    await eventually(failed)
    reply = await status(fake, server)
    assert reply.embeds[0]["description"].startswith("⚠️ Something failed since the start")
    lines = fields_of(reply)["Backups"].splitlines()
    assert lines[0] == "No backup found"
    assert lines[1].startswith("⚠️ The last automatic backup failed at 2026-11-27 12:00 UTC: ")
