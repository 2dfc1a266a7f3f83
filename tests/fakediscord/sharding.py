"""Discord's sharding rules, as the fake gateway applies them.

A client IDENTIFYs with ``"shard": [shard_id, shard_count]``; a guild belongs to shard
``(guild_id >> 22) % shard_count`` and DMs to shard 0. A sharded session receives only its own
guilds (in READY, as GUILD_CREATE and as every later guild event, interactions included); a
session without ``shard`` receives everything, as before sharding existed.

Several sessions may own the same shard at once (two processes during a rolling deploy, or a bot
started twice): each of them receives the shard's events, interactions included. That is what
Discord does too - it limits how fast sessions start, not how many run, which is why a bot run
twice answers a command twice (the second answer fails with 40060). The fake keeps that: an
event goes to *every* session whose shard owns its guild, and :attr:`Interaction.delivered_to`
says which.
"""

from __future__ import annotations

from typing import Any

#: ``(shard_id, shard_count)`` as sent in IDENTIFY.
Shard = tuple[int, int]

#: Gateway close code for an IDENTIFY whose shard is invalid (discord.py treats it as fatal).
INVALID_SHARD_CLOSE_CODE = 4010

_GUILD_OBJECT_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


class InvalidShard(ValueError):
    """IDENTIFY asked for a shard that cannot exist (Discord closes with 4010)."""


def shard_of(guild_id: int, shard_count: int) -> int:
    """Return the shard id that owns ``guild_id`` when the bot runs ``shard_count`` shards."""
    return (guild_id >> 22) % shard_count


def parse_shard(value: Any) -> Shard | None:
    """Validate IDENTIFY's ``shard`` field: ``None`` (unsharded) or ``[id, count]`` with ``0 <= id < count``."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidShard(f"shard must be [shard_id, shard_count], got {value!r}")
    shard_id, shard_count = value
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (shard_id, shard_count)):
        raise InvalidShard(f"shard values must be integers, got {value!r}")
    if not 0 <= shard_id < shard_count:
        raise InvalidShard(f"shard id {shard_id} is not in 0..{shard_count - 1}")
    return shard_id, shard_count


def event_guild_id(event: str, data: dict[str, Any]) -> int | None:
    """Return the guild a dispatch belongs to, or ``None`` for DMs and other guild-less events."""
    raw = data.get("id") if event in _GUILD_OBJECT_EVENTS else data.get("guild_id")
    return int(raw) if raw else None


def owns(shard: Shard | None, guild_id: int | None) -> bool:
    """Whether a session identified with ``shard`` receives events of ``guild_id`` (``None``: a DM)."""
    if shard is None:
        return True
    shard_id, shard_count = shard
    if guild_id is None:
        return shard_id == 0
    return shard_of(guild_id, shard_count) == shard_id
