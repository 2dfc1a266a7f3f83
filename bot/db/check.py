"""`python -m bot db check`: is the database sound, at which schema version, how big, and how many rows per table.

Works on either backend, read-only and as one snapshot (bot/db/copy_source.py), so it can run beside the bot.
SQLite is checked with `PRAGMA integrity_check`; PostgreSQL keeps its own pages consistent, so there every table
is read once, which fails on a table that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.db import migrations
from bot.db.copy_source import Source, open_source
from bot.db.tables import quote, read_tables
from bot.settings import DatabaseTarget

# The most problems `PRAGMA integrity_check` lists in the report.
INTEGRITY_LINES = 10


class CheckError(Exception):
    """The database could not be checked at all (missing, unreachable); the message is one sentence."""


@dataclass(slots=True)
class CheckReport:
    """What `db check` found; `problems` holds one sentence per thing wrong (none: the database is fine)."""

    database: str  # redacted: never a password
    backend: str
    schema_version: int
    latest_version: int
    integrity: list[str] = field(default_factory=list)  # ["ok"], or SQLite's list of damage
    tables: list[tuple[str, int]] = field(default_factory=list)  # (name, rows), by name
    size_bytes: int | None = None
    wal_bytes: int | None = None  # SQLite: the write-ahead log beside the file, not yet folded in
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems

    def lines(self) -> list[str]:
        """Return the report for people, one line each."""
        version = f"{self.schema_version} (this bot's latest: {self.latest_version})"
        if 0 < self.schema_version < self.latest_version:
            version += "; the bot migrates it at its next start"
        size = "unknown" if self.size_bytes is None else human_size(self.size_bytes)
        if self.wal_bytes:
            size += f" (and {human_size(self.wal_bytes)} of write-ahead log)"
        lines = [
            f"Database:       {self.database} ({'SQLite' if self.backend == 'sqlite' else 'PostgreSQL'})",
            f"Integrity:      {'ok' if self.integrity == ['ok'] else 'DAMAGED'}",
            *(f"  {line}" for line in self.integrity if self.integrity != ["ok"]),
            f"Schema version: {version}",
            f"Size:           {size}",
        ]
        if self.tables:
            width = max(len(name) for name, _ in self.tables)
            lines += ["Rows:", *(f"  {name:<{width}}  {rows:>9,}" for name, rows in self.tables)]
        lines.append("Result:         " + ("ok" if self.ok else f"{len(self.problems)} problem(s), listed on stderr"))
        return lines


def human_size(size: int) -> str:
    """Return a byte count as people read it: 812 bytes, 1.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


async def check_database(target: DatabaseTarget) -> CheckReport:
    """Check the database `target` names and return the report; raise CheckError if it cannot be read at all."""
    if target.path is not None and not target.path.is_file():
        raise CheckError(f"There is no database at {target.path}.")
    from bot.db.copy import database_errors

    try:
        async with open_source(target.path, target.url) as source:
            return await _check(source, target)
    except database_errors() as exc:
        raise CheckError(f"{target.redacted} cannot be read: {str(exc).rstrip('.') or type(exc).__name__}.") from exc


async def _check(source: Source, target: DatabaseTarget) -> CheckReport:
    latest = migrations.discover(dialect=source.dialect)[-1].version
    report = CheckReport(target.redacted, target.backend, await source.schema_version(), latest)
    if report.schema_version == 0:
        report.problems.append(f"{target.redacted} holds no bot data (it has no schema version).")
    elif report.schema_version > latest:
        report.problems.append(
            f"The database is at schema version {report.schema_version}, but this bot only knows versions up to "
            f"{latest}: a newer version of the bot wrote it; run that version, or restore an older backup."
        )
    if source.dialect == "sqlite":
        rows = await source.fetch(f"PRAGMA integrity_check({INTEGRITY_LINES})")
        report.integrity = [str(row[0]) for row in rows]
        assert target.path is not None  # noqa: S101 - a SQLite target always has its path
        report.size_bytes = target.path.stat().st_size
        wal = Path(f"{target.path}-wal")
        report.wal_bytes = wal.stat().st_size if wal.exists() else None
    else:
        report.integrity = ["ok"]  # every table is read below; one that cannot be read fails the check
        report.size_bytes = int((await source.fetch("SELECT pg_database_size(current_database())"))[0][0])
    if report.integrity != ["ok"]:
        report.problems.append(
            f"{target.redacted} fails SQLite's integrity check: it is damaged; restore a backup taken before the "
            "damage (python -m bot db restore PATH)."
        )
        return report  # counting rows of a damaged file can fail or mislead
    for table in sorted(await read_tables(source.fetch, source.dialect), key=lambda table: table.name):
        count = await source.fetch(f"SELECT count(*) FROM {quote(table.name)}")  # noqa: S608 - catalog names
        report.tables.append((table.name, int(count[0][0])))
    if report.schema_version and not report.tables:
        report.problems.append(f"{target.redacted} has a schema version but none of the bot's tables.")
    return report
