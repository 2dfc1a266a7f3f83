"""Weekly occurrences in local time across daylight-saving changes, over a simulated year."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.schedule import (
    ScheduleError,
    load_zone,
    missed_since,
    next_occurrence,
    parse_local_time,
    zone_suggestions,
)

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"]


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("weekday", [0, 3, 6])
def test_a_year_of_weekly_posts_stays_at_local_time(zone_name: str, weekday: int) -> None:
    """Every occurrence for a year is at 19:00 local on the right weekday, exactly one week apart locally."""
    zone = ZoneInfo(zone_name)
    after = datetime(2026, 1, 1, tzinfo=UTC)
    previous = None
    for _ in range(53):
        occurrence = next_occurrence(after, weekday, time(19, 0), zone)
        local = occurrence.due.astimezone(zone)
        assert (local.hour, local.minute, local.weekday()) == (19, 0, weekday)
        assert local.date() == occurrence.local_date
        if previous is not None:
            assert occurrence.local_date - previous.local_date == timedelta(days=7)
        previous, after = occurrence, occurrence.due


def test_london_keeps_1900_local_on_both_sides_of_the_change() -> None:
    """19:00 Europe/London is 19:00 UTC in winter and 18:00 UTC in summer."""
    zone = ZoneInfo("Europe/London")
    winter = next_occurrence(datetime(2026, 3, 20, tzinfo=UTC), 3, time(19), zone)
    summer = next_occurrence(winter.due, 3, time(19), zone)
    assert winter.due == datetime(2026, 3, 26, 19, 0, tzinfo=UTC)
    assert summer.due == datetime(2026, 4, 2, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone_name", "day", "at", "expected_utc", "expected_local"),
    [
        # Spring forward: the local time does not exist, so it moves forward by the gap.
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 30, tzinfo=UTC), time(3, 30)),
        ("Europe/London", date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC), time(2, 30)),
        ("Australia/Adelaide", date(2026, 10, 4), time(2, 15), datetime(2026, 10, 3, 16, 45, tzinfo=UTC), time(3, 15)),
        # Fall back: the local time happens twice; the first one is used.
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC), time(1, 30)),
        ("Europe/London", date(2026, 10, 25), time(1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), time(1, 30)),
        ("Australia/Adelaide", date(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 16, 0, tzinfo=UTC), time(2, 30)),
    ],
)
def test_gap_and_overlap_are_handled_as_documented(
    zone_name: str, day: date, at: time, expected_utc: datetime, expected_local: time
) -> None:
    """A time in the spring gap moves forward by the gap; a doubled autumn time is taken at its first instant."""
    zone = ZoneInfo(zone_name)
    occurrence = next_occurrence(
        datetime.combine(day, time(0), tzinfo=zone) - timedelta(days=1), day.weekday(), at, zone
    )
    assert occurrence.local_date == day
    assert occurrence.due == expected_utc
    assert occurrence.due.astimezone(zone).time() == expected_local


def test_an_occurrence_is_strictly_after_the_given_moment() -> None:
    """Asking right at a due instant gives the following week, so nothing is posted twice."""
    zone = ZoneInfo("Asia/Kolkata")
    first = next_occurrence(datetime(2026, 6, 1, tzinfo=UTC), 2, time(18, 30), zone)
    assert first.due == datetime(2026, 6, 3, 13, 0, tzinfo=UTC)  # Wednesday 18:30 at +05:30
    assert next_occurrence(first.due, 2, time(18, 30), zone).local_date == date(2026, 6, 10)


def test_missed_occurrences_are_counted_not_replayed() -> None:
    """After three weeks down, three occurrences are due: the caller decides, nothing is queued."""
    zone = ZoneInfo("Europe/London")
    first = next_occurrence(datetime(2026, 5, 1, tzinfo=UTC), 0, time(9), zone)
    assert missed_since(first, first.due + timedelta(days=15), 0, time(9), zone) == 3
    assert missed_since(first, first.due - timedelta(seconds=1), 0, time(9), zone) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("19:00", time(19)), ("7:30", time(7, 30)), ("7pm", time(19)), ("12am", time(0)), ("12:15 PM", time(12, 15))],
)
def test_parse_local_time(text: str, expected: time) -> None:
    """Common ways of writing a time of day are understood."""
    assert parse_local_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "7:75", "noonish", "13pm", ""])
def test_parse_local_time_rejects_nonsense(text: str) -> None:
    """Impossible times get a sentence saying how to write one."""
    with pytest.raises(ScheduleError, match="19:00"):
        parse_local_time(text)


def test_zones_are_validated_and_suggested() -> None:
    """IANA names load; unknown or ambiguous names are refused; suggestions rank city prefixes first."""
    assert str(load_zone("Europe/London")) == "Europe/London"
    # A folder of the zone database (America/Argentina) or a path outside it is an unknown zone, not a crash.
    for bad in ("Mars/Olympus", "EST5EDT-ish", "London", "America/Argentina", "America/Indiana", "../etc/passwd"):
        with pytest.raises(ScheduleError, match="IANA"):
            load_zone(bad)
    assert zone_suggestions("lon")[0] == "Europe/London"
    assert zone_suggestions("new y")[0] == "America/New_York"
    assert len(zone_suggestions("a")) == 25
