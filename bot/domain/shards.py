"""Which servers a bot process looks after when the bot runs sharded, possibly over several processes.

Discord puts each server on shard `(guild_id >> 22) % shard_count`; a process that runs some of the shards receives
only their servers' events, so it must also do only their servers' background work (closing rounds, posting prompts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID_OR_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


def shard_of(guild_id: int, shard_count: int) -> int:
    """Return the shard that carries a server's events when the bot runs `shard_count` shards (Discord's rule)."""
    return (guild_id >> 22) % shard_count


def parse_shard_ids(text: str) -> frozenset[int]:
    """Read a list of shard ids and ranges such as "0-3", "4,5,6" or "0-1,3"; raise ValueError if malformed."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = _ID_OR_RANGE.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is neither a shard id nor a range such as 0-3")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise ValueError(f"the range {part} runs backwards")
        ids.update(range(low, high + 1))
    return frozenset(ids)


def describe_shard_ids(ids: frozenset[int]) -> str:
    """Write shard ids back compactly, runs as ranges: {0, 1, 2, 5} -> "0-2,5"."""
    runs: list[list[int]] = []
    for shard_id in sorted(ids):
        if runs and runs[-1][1] == shard_id - 1:
            runs[-1][1] = shard_id
        else:
            runs.append([shard_id, shard_id])
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in runs)


@dataclass(frozen=True, slots=True)
class ShardScope:
    """The servers this process looks after: those on shards `ids` out of `count`, or every server if `ids` is None."""

    count: int = 1
    ids: frozenset[int] | None = None

    @property
    def everything(self) -> bool:
        """Whether this process looks after every server (one process runs all the shards)."""
        return self.ids is None

    def owns(self, guild_id: int) -> bool:
        """Whether a server is this process's to look after."""
        return self.ids is None or shard_of(guild_id, self.count) in self.ids


#: One process runs every shard (the default, and whenever SHARD_IDS is not set).
EVERY_SHARD = ShardScope()


#: Discord lets each identify rate-limit key start one session per 5 seconds.
IDENTIFY_INTERVAL = 5.0


def identify_delay(shard_id: int, identified_at: dict[int, float], max_concurrency: int, now: float) -> float:
    """Return how long a shard must wait before identifying, given when each shard last identified.

    Shards share a rate-limit key when their ids are equal modulo `max_concurrency` (Discord's session start limit);
    each key may identify once per IDENTIFY_INTERVAL, and shards with different keys may identify at the same moment.
    """
    key = shard_id % max(max_concurrency, 1)
    same_key = [at for other, at in identified_at.items() if other % max(max_concurrency, 1) == key]
    return max(0.0, max(same_key, default=-IDENTIFY_INTERVAL) + IDENTIFY_INTERVAL - now)
