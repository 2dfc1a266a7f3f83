"""Shard ownership: Discord's rule, SHARD_IDS lists, and which servers a process looks after."""

from __future__ import annotations

import pytest

from bot.domain.shards import (
    EVERY_SHARD,
    ShardScope,
    describe_shard_ids,
    identify_delay,
    parse_shard_ids,
    shard_of,
)

# Real-looking snowflakes: a timestamp in the high bits, worker/process/increment in the low 22 (ignored by the rule).
SNOWFLAKES = [(ms << 22) | low for ms in (1, 2, 3, 4, 5, 6, 7, 8, 1_337_000_000_123) for low in (0, 4_194_303)]


def test_shard_of_is_discords_rule() -> None:
    """A server's shard is (id >> 22) % count: the low 22 bits never matter, the timestamp part does."""
    assert [shard_of(guild_id, 4) for guild_id in SNOWFLAKES[:16:2]] == [1, 2, 3, 0, 1, 2, 3, 0]
    assert all(shard_of(guild_id, 4) == shard_of(guild_id | 0x3FFFFF, 4) for guild_id in SNOWFLAKES)
    assert shard_of(175928847299117063, 16) == 4  # worked by hand: 41944705796 % 16
    assert all(shard_of(guild_id, 1) == 0 for guild_id in SNOWFLAKES)


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0-3", {0, 1, 2, 3}), ("4,5,6", {4, 5, 6}), ("0-1,3", {0, 1, 3}), (" 2 ", {2}), ("1-1,1", {1})],
)
def test_parse_shard_ids(text: str, ids: set[int]) -> None:
    """Ids and ranges, comma-separated, spaces ignored, repeats merged."""
    assert parse_shard_ids(text) == frozenset(ids)


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "3-1", "0,,1", "1.5", "0-1-2"])
def test_parse_shard_ids_refuses_malformed_lists(text: str) -> None:
    """Anything but ids and forward ranges is refused."""
    with pytest.raises(ValueError, match=r"shard id|range"):
        parse_shard_ids(text)


def test_describe_shard_ids_writes_runs_as_ranges() -> None:
    """The log line's compact form reads back as the same ids."""
    assert describe_shard_ids(frozenset({0, 1, 2, 5, 7, 8})) == "0-2,5,7-8"
    assert parse_shard_ids(describe_shard_ids(frozenset({3, 9, 10}))) == {3, 9, 10}


def test_every_shard_owns_every_server() -> None:
    """Unsharded by settings (one process runs every shard): every server is this process's."""
    assert EVERY_SHARD.everything
    assert all(EVERY_SHARD.owns(guild_id) for guild_id in SNOWFLAKES)


def test_a_scope_owns_exactly_the_servers_of_its_shards() -> None:
    """Shards {0, 1} of 4 own a server exactly when (id >> 22) % 4 is 0 or 1; {2, 3} own the rest; no overlap."""
    low, high = ShardScope(4, frozenset({0, 1})), ShardScope(4, frozenset({2, 3}))
    assert not low.everything
    for guild_id in SNOWFLAKES:
        assert low.owns(guild_id) == ((guild_id >> 22) % 4 in {0, 1})
        assert low.owns(guild_id) != high.owns(guild_id)
    assert {low.owns(guild_id) for guild_id in SNOWFLAKES} == {True, False}


def test_a_shard_waits_five_seconds_after_another_with_the_same_rate_limit_key() -> None:
    """With max_concurrency 1 every shard shares one key: each waits until 5 s after the last identify."""
    assert identify_delay(1, {0: 100.0}, max_concurrency=1, now=101.0) == 4.0
    assert identify_delay(2, {0: 100.0, 1: 103.0}, max_concurrency=1, now=104.0) == 4.0
    assert identify_delay(1, {0: 100.0}, max_concurrency=1, now=107.0) == 0.0


def test_shards_with_different_rate_limit_keys_identify_at_once() -> None:
    """With max_concurrency 4, shards 0-3 have keys 0-3; shard 4 shares shard 0's key and waits for it."""
    identified = {0: 100.0, 1: 100.0, 2: 100.0}
    assert identify_delay(3, identified, max_concurrency=4, now=100.0) == 0.0
    assert identify_delay(4, identified, max_concurrency=4, now=100.0) == 5.0
    assert identify_delay(0, {}, max_concurrency=16, now=0.0) == 0.0
