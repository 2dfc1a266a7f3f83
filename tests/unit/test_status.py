"""The /status card from plain values: every line, and Discord's limits whatever the inputs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.domain.card import EMBED_FIELD_COUNT_LIMIT, EMBED_FIELD_LIMIT, EMBED_TOTAL_LIMIT, Card
from bot.domain.content_loader import load_content
from bot.domain.prompts import Schedule
from bot.domain.status import BackupState, JobState, StatusReport, content_version, format_size, status_card

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CONTENT = Path(__file__).resolve().parents[2] / "content"


def report(**changes: object) -> StatusReport:
    """Return a report of a healthy bot on SQLite with nothing scheduled, changed by `changes`."""
    base = StatusReport(
        now=NOW,
        version="0.1.0",
        uptime_seconds=3 * 3600 + 4 * 60,
        gateway_latency=0.0421,
        backend="sqlite",
        database_name="bot.sqlite3",
        database_size=3 * 1024 * 1024 + 512 * 1024,
        backup=BackupState(directory=None, automatic=False),
        content_version="0123456789ab",
        content_loaded_at=NOW - timedelta(hours=3),
        content_stats={"concepts": 40, "readings": 90, "prompts": 12},
        open_round=None,
        respondents=0,
        schedule=None,
        jobs=[JobState("pdoom-closer", running=True, passes=5, failed_passes=0, failures_in_a_row=0)],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def fields(card: Card) -> dict[str, str]:
    """Return a card's fields by name."""
    return dict(card.fields)


def fits(card: Card) -> bool:
    """Whether a card is within every one of Discord's embed limits."""
    return (
        card.total_length() <= EMBED_TOTAL_LIMIT
        and len(card.fields) <= EMBED_FIELD_COUNT_LIMIT
        and all(len(value) <= EMBED_FIELD_LIMIT and value for _, value in card.fields)
    )


def test_a_healthy_bot() -> None:
    """Version, uptime, latency, database and its size, content; no failure, so the info tone."""
    card = status_card(report())
    shown = fields(card)
    assert card.tone == "info" and card.description == "Everything is running."
    assert shown["Bot"] == "Version 0.1.0 · up 3 h 4 min\nGateway latency: 42 ms"
    assert shown["Database"] == "SQLite (bot.sqlite3), 3.5 MiB"
    assert shown["Backups"] == "No backup found (BACKUP_DIR is not set)"
    assert shown["Content"] == (
        "Version 0123456789ab, loaded 2026-11-27 09:00 UTC (3 h 0 min ago)\n"
        "40 concepts · 90 readings · 12 starter prompts"
    )
    assert shown["Background jobs"] == "✅ **pdoom-closer**: 5 passes, none failed"


def test_latency_before_the_first_heartbeat_and_an_unanswering_database() -> None:
    """discord.py's latency is inf/nan before a heartbeat; a size that could not be read says so."""
    shown = fields(status_card(report(gateway_latency=float("inf"), database_size=None)))
    assert shown["Bot"].endswith("Gateway latency: not measured yet")
    assert shown["Database"] == "SQLite (bot.sqlite3), size unknown (the database did not answer)"


def test_backups_last_one_and_a_failure() -> None:
    """The newest backup with its size and age; a failed automatic backup marks the card as failing."""
    backup = BackupState(
        directory="/data/backups",
        automatic=True,
        last_name="bot-2026-11-26T2330Z-v0006.sqlite3",
        last_taken_at=NOW - timedelta(hours=12, minutes=30),
        last_size=900 * 1024,
        last_error="OSError: [Errno 28] No space left on device",
        last_error_at=NOW - timedelta(minutes=30),
    )
    card = status_card(report(backup=backup))
    assert fields(card)["Backups"] == (
        "Last: bot-2026-11-26T2330Z-v0006.sqlite3, 900 KiB, 2026-11-26 23:30 UTC (12 h 30 min ago)\n"
        "⚠️ The last automatic backup failed at 2026-11-27 11:30 UTC: OSError: \\[Errno 28\\] No space left on device"
    )
    assert card.tone == "error"


def test_postgresql_backups_point_to_pg_dump() -> None:
    """On PostgreSQL the backups line says how to back it up."""
    shown = fields(status_card(report(backend="postgresql", database_name="bot on db")))
    assert shown["Database"].startswith("PostgreSQL (bot on db), ")
    assert shown["Backups"] == "Back up PostgreSQL with pg_dump (automatic backups are for SQLite)."


def test_a_stopped_job_and_a_failing_one_come_first() -> None:
    """A loop that is not running, or failed since start, is listed before the healthy ones, with its last error."""
    jobs = [
        JobState("a-healthy", running=True, passes=9, failed_passes=0, failures_in_a_row=0),
        JobState(
            "prompts-scheduler",
            running=True,
            passes=14,
            failed_passes=2,
            failures_in_a_row=1,
            last_error="error E1A2B3: RuntimeError: *boom*",
            last_failed_at=NOW - timedelta(minutes=4),
        ),
        JobState("pdoom-closer", running=False, passes=3, failed_passes=0, failures_in_a_row=0),
    ]
    lines = fields(status_card(report(jobs=jobs)))["Background jobs"].splitlines()
    assert lines == [
        "❌ **pdoom-closer**: not running",
        "⚠️ **prompts-scheduler**: 2 of 14 passes failed since start, 1 in a row now; "
        "last failed 2026-11-27 11:56 UTC (4 min ago): error E1A2B3: RuntimeError: \\*boom\\*",
        "✅ **a-healthy**: 9 passes, none failed",
    ]


def test_the_next_post_in_the_servers_zone_and_in_utc() -> None:
    """The next post is shown in the server's zone and in UTC; retries say when and why."""
    schedule = Schedule(
        guild_id=1,
        channel_id=2,
        weekday=4,
        local_time=time(19, 0),
        timezone="America/New_York",
        ping_role_id=None,
        open_thread=True,
        mod_channel_id=None,
        paused=False,
        skip_next=False,
        grace_hours=12,
        next_due_at=datetime(2026, 11, 28, 0, 0, tzinfo=UTC),
        next_local_date="2026-11-27",
        last_outcome="Posted prompt #3 for 2026-11-20",
        retry_at=NOW + timedelta(minutes=2),
        attempts=2,
        retry_reason="Discord answered 503",
    )
    shown = fields(status_card(report(schedule=schedule)))
    assert shown["Next weekly post"] == (
        "Fridays at 19:00 (America/New_York) in <#2>\n"
        "Friday 27 November 2026, 19:00 America/New_York (2026-11-28 00:00 UTC)\n"
        "Retrying at 2026-11-27 12:02 UTC after 2 failed tries: Discord answered 503"
    )
    assert shown["Last post"] == "Posted prompt #3 for 2026-11-20"


def test_the_card_fits_whatever_the_inputs() -> None:
    """Huge errors, names and many jobs still make a card within Discord's limits."""
    huge = "x" * 5000
    jobs = [
        JobState(f"job-{i}-{huge[:80]}", True, 10**6, 10**5, 10**4, last_error=huge, last_failed_at=NOW)
        for i in range(40)
    ]
    backup = BackupState(huge, True, huge, NOW, 10**12, huge, NOW)
    card = status_card(report(jobs=jobs, backup=backup, database_name=huge, version=huge, database_size=10**13))
    assert fits(card)


def test_format_size() -> None:
    """Sizes read as KiB (rounded up), MiB or GiB."""
    assert [format_size(n) for n in (0, 1, 1024, 1025, 5 * 2**20, 3 * 2**30)] == [
        "0 KiB",
        "1 KiB",
        "1 KiB",
        "2 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]


def test_content_version_changes_with_the_content_only() -> None:
    """The same content gives the same version; a visible change gives another."""
    store = load_content(CONTENT)
    assert content_version(store) == content_version(load_content(CONTENT))
    concept = next(iter(store.concepts.values()))
    changed = dataclasses.replace(
        store, concepts={**store.concepts, concept.id: concept.model_copy(update={"title": concept.title + "!"})}
    )
    assert content_version(changed) != content_version(store)
