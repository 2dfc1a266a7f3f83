"""Weekly schedules in a server's own time zone, correct across daylight-saving changes.

A schedule says "Thursdays at 19:00 Europe/London". Each occurrence is identified by its local date, which
makes it the key for posting exactly once. Local times are turned into instants with zoneinfo:

- A local time that does not exist (the spring-forward gap, e.g. 02:30 when clocks jump from 02:00 to 03:00)
  is moved forward by the length of the gap (02:30 -> 03:30), as calendars do.
- A local time that occurs twice (the autumn fall-back, e.g. 01:30 when clocks go from 02:00 back to 01:00)
  is taken at its first occurrence, so the post happens once, at the earlier instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserFacingError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_CATCH_UP_WEEKS = 520  # bound on counting missed weeks after a very long downtime


class ScheduleError(UserFacingError):
    """A schedule setting is invalid; the message says which and how to fix it."""

    default_message = "That schedule setting is not valid; check the day, time and time zone."


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One due post: the local date that identifies it, and the instant it is due (UTC)."""

    local_date: date
    due: datetime


def load_zone(name: str) -> ZoneInfo:
    """Return the IANA time zone called `name`, or raise ScheduleError with a helpful sentence."""
    try:
        if "/" not in name and name.upper() != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    # A folder such as America/Argentina raises IsADirectoryError (an OSError), a path outside the database
    # ValueError: both are just names we don't know.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"{name[:60]!r} is not a time zone I know. Use an IANA name like Europe/London or America/New_York."
        ) from None


def parse_local_time(text: str) -> time:
    """Read `19:00`, `7:30`, `7pm` or `7:30 pm` as a wall-clock time."""
    cleaned = text.strip().lower().replace(".", ":").replace(" ", "")
    suffix = cleaned[-2:] if cleaned.endswith(("am", "pm")) else ""
    digits = cleaned.removesuffix(suffix)
    try:
        hours, _, minutes = digits.partition(":")
        hour, minute = int(hours), int(minutes or 0)
        if suffix:
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if suffix == "pm" else 0)
        return time(hour, minute)
    except ValueError:
        raise ScheduleError(f"{text[:20]!r} is not a time of day; write it like 19:00 or 7pm.") from None


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of wall-clock `at` on `day` in `zone` (gap: shifted forward; overlap: first)."""
    # fold=0 means: the earlier of two instants in an overlap; in a gap, zoneinfo applies the offset from
    # before the jump, which lands the same length past the gap.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_occurrence(after: datetime, weekday: int, at: time, zone: ZoneInfo) -> Occurrence:
    """Return the first occurrence strictly after `after` (an aware datetime)."""
    local_today = after.astimezone(zone).date()
    day = local_today + timedelta(days=(weekday - local_today.weekday()) % 7)
    while True:
        due = local_instant(day, at, zone)
        if due > after:
            return Occurrence(day, due)
        day += timedelta(days=7)


def missed_since(first: Occurrence, now: datetime, weekday: int, at: time, zone: ZoneInfo) -> int:
    """Count the occurrences from `first` (inclusive) that are already due at `now`."""
    count = 0
    occurrence = first
    while occurrence.due <= now and count < MAX_CATCH_UP_WEEKS:
        count += 1
        occurrence = next_occurrence(occurrence.due, weekday, at, zone)
    return count


def zone_suggestions(text: str, limit: int = 25) -> list[str]:
    """Return IANA zone names containing `text` (case-insensitive), shortest first, for autocomplete."""
    needle = text.strip().lower().replace(" ", "_")
    matches = [z for z in _zones() if needle in z.lower()]
    # A city that starts with the text ("lon" -> Europe/London) ranks above a mere substring match.
    matches.sort(key=lambda z: (not z.lower().rsplit("/", 1)[-1].startswith(needle), len(z), z))
    return matches[:limit]


@cache
def _zones() -> list[str]:
    """Return canonical region/city zone names (no legacy aliases like US/Eastern), read once when first needed."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/")))
