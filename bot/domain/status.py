"""/status: what an admin looks at when members say "the prompt didn't come", as one private card.

The cog gathers a `StatusReport` (the bot's own state, the database, this server's round and schedule, the
background jobs); `status_card` turns it into a card within Discord's limits. Nothing here knows about discord.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.domain.card import EMBED_FIELD_LIMIT, Card
from bot.domain.content import ContentStore
from bot.domain.pdoom import PollRound
from bot.domain.prompt_texts import admin_command
from bot.domain.prompts import Schedule, describe_schedule
from bot.domain.schedule import load_zone
from bot.domain.text import escape_markdown, format_duration, pack_lines, truncate

TITLE = "Bot status"
FOOTER = "Only you can see this. Times in UTC unless a zone is named."
ERROR_TEXT_LIMIT = 200  # of a job's last error, so every job fits in its field
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True, slots=True)
class JobState:
    """One supervised background loop as it stands: whether it runs, and its failed passes since the start."""

    name: str
    running: bool
    passes: int
    failed_passes: int
    failures_in_a_row: int
    last_error: str | None = None
    last_failed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BackupState:
    """The newest backup found and the automatic backups' last failure; `directory` None: BACKUP_DIR is not set."""

    directory: str | None
    automatic: bool
    last_name: str | None = None
    last_taken_at: datetime | None = None
    last_size: int | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything /status shows, gathered at one moment (`now`)."""

    now: datetime
    version: str
    uptime_seconds: float
    gateway_latency: float | None  # seconds; None before the first heartbeat
    backend: Literal["sqlite", "postgresql"]
    database_name: str  # a file name or a database name, never a URL with its password
    database_size: int | None  # None: the database did not answer
    backup: BackupState
    content_version: str
    content_loaded_at: datetime
    content_stats: Mapping[str, int]
    open_round: PollRound | None
    respondents: int
    schedule: Schedule | None
    jobs: Sequence[JobState]


def content_version(store: ContentStore) -> str:
    """Return a short digest of the content in use: equal in every process serving the same content.

    Taken over the validated content, not the files, so comments and formatting do not change it but any change
    members could see does.
    """
    payload = {
        "concepts": {key: item.model_dump(mode="json") for key, item in sorted(store.concepts.items())},
        "readings": {key: item.model_dump(mode="json") for key, item in sorted(store.readings.items())},
        "steps": [item.model_dump(mode="json") for item in store.steps],
        "estimates": [item.model_dump(mode="json") for item in store.estimates],
        "prompts": [item.model_dump(mode="json") for item in store.prompts],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def format_size(size: int) -> str:
    """Describe a number of bytes briefly, e.g. `812 KiB`, `3.4 MiB`."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{-(-size // 1024)} KiB" if size else "0 KiB"


def utc_time(moment: datetime) -> str:
    """Format an instant in UTC, e.g. `2026-11-27 19:00 UTC`."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def ago(moment: datetime, now: datetime) -> str:
    """Say how long ago an instant was, e.g. `3 h 4 min ago`."""
    return f"{format_duration((now - moment).total_seconds())} ago"


def _bot_line(report: StatusReport) -> str:
    latency = report.gateway_latency
    shown = f"{latency * 1000:.0f} ms" if latency is not None and math.isfinite(latency) else "not measured yet"
    return (
        f"Version {truncate(report.version, 40)} · up {format_duration(report.uptime_seconds)}\n"
        f"Gateway latency: {shown}"
    )


def _database_line(report: StatusReport) -> str:
    size = "size unknown (the database did not answer)"
    if report.database_size is not None:
        size = format_size(report.database_size)
    return f"{BACKEND_NAMES[report.backend]} ({escape_markdown(truncate(report.database_name, 200))}), {size}"


def _backup_line(report: StatusReport) -> str:
    backup = report.backup
    if report.backend == "postgresql" and backup.last_name is None:
        return "Back up PostgreSQL with pg_dump (automatic backups are for SQLite)."
    if backup.last_name is None or backup.last_taken_at is None:
        last = "No backup found" + ("" if backup.directory else " (BACKUP_DIR is not set)")
    else:
        size = f", {format_size(backup.last_size)}" if backup.last_size is not None else ""
        last = (
            f"Last: {escape_markdown(truncate(backup.last_name, 120))}{size}, "
            f"{utc_time(backup.last_taken_at)} ({ago(backup.last_taken_at, report.now)})"
        )
    lines = [last]
    if backup.directory and not backup.automatic:
        lines.append("Automatic backups are off.")
    if backup.last_error is not None:
        when = f" at {utc_time(backup.last_error_at)}" if backup.last_error_at else ""
        lines.append(f"⚠️ The last automatic backup failed{when}: {_error_text(backup.last_error)}")
    return "\n".join(lines)


def _content_line(report: StatusReport) -> str:
    stats = report.content_stats
    return (
        f"Version {report.content_version}, loaded {utc_time(report.content_loaded_at)} "
        f"({ago(report.content_loaded_at, report.now)})\n"
        f"{stats.get('concepts', 0)} concepts · {stats.get('readings', 0)} readings · "
        f"{stats.get('prompts', 0)} starter prompts"
    )


def _round_line(report: StatusReport) -> str:
    poll = report.open_round
    if poll is None:
        return "No round open in this server."
    closes = f", closes {utc_time(poll.closes_at)}" if poll.closes_at else ", closed by hand"
    answered = "1 member has" if report.respondents == 1 else f"{report.respondents} members have"
    return f"Round {poll.number} is open in <#{poll.channel_id}>: {answered} answered{closes}."


def _next_post_line(schedule: Schedule | None) -> str:
    if schedule is None:
        return f"No weekly prompt is scheduled here; set one with {admin_command('schedule')}."
    header = f"{describe_schedule(schedule)} in <#{schedule.channel_id}>"
    if schedule.absent:
        return f"{header}, waiting: I'm not in this server any more."
    if schedule.paused:
        return f"{header}, paused (resume with {admin_command('resume')})."
    local = schedule.next_due_at.astimezone(load_zone(schedule.timezone))
    lines = [header, f"{local:%A %d %B %Y, %H:%M} {schedule.timezone} ({utc_time(schedule.next_due_at)})"]
    if schedule.skip_next:
        lines.append("That one will be skipped; the week after is posted.")
    if schedule.retry_at is not None:
        reason = f": {_error_text(schedule.retry_reason)}" if schedule.retry_reason else ""
        lines.append(f"Retrying at {utc_time(schedule.retry_at)} after {schedule.attempts} failed tries{reason}")
    return "\n".join(lines)


def _error_text(text: str) -> str:
    """Return an error's text as data: on one line, markdown escaped, bounded."""
    return escape_markdown(truncate(" ".join(text.split()), ERROR_TEXT_LIMIT))


def job_line(job: JobState, now: datetime) -> str:
    """One background job's line: ✅ healthy, ⚠️ failed since start (with the last error), ❌ not running."""
    if not job.running:
        mark, state = "❌", "not running"
    elif job.failed_passes:
        mark, state = "⚠️", f"{job.failed_passes} of {job.passes} passes failed since start"
    else:
        mark, state = "✅", f"{job.passes} passes, none failed"
    line = f"{mark} **{job.name}**: {state}"
    if job.failures_in_a_row:
        line += f", {job.failures_in_a_row} in a row now"
    if job.last_failed_at is not None:
        line += f"; last failed {utc_time(job.last_failed_at)} ({ago(job.last_failed_at, now)})"
    if job.last_error:
        line += f": {_error_text(job.last_error)}"
    return line


def _jobs_text(report: StatusReport) -> str:
    if not report.jobs:
        return "None running."
    failed_first = sorted(report.jobs, key=lambda job: (not job.failed_passes and job.running, job.name))
    return pack_lines([job_line(job, report.now) for job in failed_first], EMBED_FIELD_LIMIT)[0]


def status_card(report: StatusReport) -> Card:
    """Show the bot's state to an admin in one card (each field stays within Discord's limits)."""
    outcome = report.schedule.last_outcome if report.schedule else None
    fields = (
        ("Bot", _bot_line(report)),
        ("Database", _database_line(report)),
        ("Backups", _backup_line(report)),
        ("Content", _content_line(report)),
        ("P(Doom) round", _round_line(report)),
        ("Next weekly post", _next_post_line(report.schedule)),
        # The bot's own sentence (it may name a channel or a command), shown as /prompts-admin status shows it.
        ("Last post", outcome or "Nothing posted yet."),
        ("Background jobs", _jobs_text(report)),
    )
    failing = any(job.failed_passes or not job.running for job in report.jobs) or report.backup.last_error
    return Card(
        title=TITLE,
        description="⚠️ Something failed since the start: see below." if failing else "Everything is running.",
        fields=tuple((name, truncate(value, EMBED_FIELD_LIMIT)) for name, value in fields),
        footer=FOOTER,
        tone="error" if failing else "info",
    )
