"""The share cooldown: one use per member per period, measured on the clock it is given, with bounded memory."""

from datetime import UTC, datetime, timedelta

from bot.domain.cards import Cooldown

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PERIOD = timedelta(seconds=30)


def test_second_use_within_the_period_waits_for_the_rest_of_it() -> None:
    """A member's second use 10 s after the first must wait the remaining 20 s; at 30 s it is allowed."""
    cooldown = Cooldown(PERIOD)
    assert cooldown.try_use(1, START) is None
    assert cooldown.try_use(1, START + timedelta(seconds=10)) == timedelta(seconds=20)
    assert cooldown.try_use(1, START + PERIOD) is None


def test_refused_use_does_not_restart_the_period() -> None:
    """Trying again while waiting does not push the end of the wait further out."""
    cooldown = Cooldown(PERIOD)
    cooldown.try_use(1, START)
    cooldown.try_use(1, START + timedelta(seconds=29))
    assert cooldown.try_use(1, START + timedelta(seconds=30)) is None


def test_members_are_independent() -> None:
    """One member's use does not hold up another's."""
    cooldown = Cooldown(PERIOD)
    assert cooldown.try_use(1, START) is None
    assert cooldown.try_use(2, START) is None


def test_memory_holds_only_recent_members() -> None:
    """Members whose last use is older than one period are forgotten as new uses come in."""
    cooldown = Cooldown(PERIOD)
    for member in range(1000):
        cooldown.try_use(member, START + timedelta(milliseconds=member))
    cooldown.try_use(5000, START + timedelta(minutes=5))
    assert len(cooldown) == 1


def test_clock_stepping_back_never_means_a_longer_wait() -> None:
    """If the clock moves backwards, the wait is still at most one period."""
    cooldown = Cooldown(PERIOD)
    cooldown.try_use(1, START)
    wait = cooldown.try_use(1, START - timedelta(hours=1))
    assert wait is not None and wait <= PERIOD
