"""Self-tests of the fake's sharding against the real discord.py ``AutoShardedClient``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakediscord import (
    INVALID_SHARD_CLOSE_CODE,
    FakeDiscord,
    Guild,
    Member,
    Shard,
    connected_client,
    shard_of,
)
from tests.fakediscord.sharding import InvalidShard, parse_shard

SHARDS = 4


class ShardedClient(discord.AutoShardedClient):
    """An ``AutoShardedClient`` that identifies its shards back to back.

    discord.py's default ``before_identify_hook`` waits 5 s before every shard but the first, to respect
    Discord's identify rate limit; the fake has none.
    """

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify at once."""


@dataclass
class Bot:
    """A sharded client with a ``/where`` command that says which client answered, and what it saw."""

    label: str
    client: ShardedClient
    tree: app_commands.CommandTree[ShardedClient]
    #: Guild ids of the interactions this client received.
    seen: list[int] = field(default_factory=list)
    #: Discord error codes this client's answers got.
    refused: asyncio.Queue[int] = field(default_factory=asyncio.Queue)


def sharded_bot(label: str, **kwargs: Any) -> Bot:
    """Build a sharded client (``shard_count`` / ``shard_ids`` in ``kwargs``) with the ``/where`` command."""
    client = ShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.1, **kwargs)
    tree = app_commands.CommandTree(client)
    bot = Bot(label, client, tree)

    @tree.command(description="Say which client answers in this server")
    async def where(interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        bot.seen.append(interaction.guild.id)
        try:
            await interaction.response.send_message(f"{label} answers in {interaction.guild.name}")
        except discord.HTTPException as exc:
            bot.refused.put_nowait(exc.code)

    return bot


def spread_guilds(fake: FakeDiscord, per_shard: int = 2) -> dict[int, list[Guild]]:
    """Create ``per_shard`` guilds (each with a member "alice" and #general) in every one of the ``SHARDS`` shards."""
    guilds: dict[int, list[Guild]] = {}
    for shard_id in range(SHARDS):
        guilds[shard_id] = []
        for n in range(per_shard):
            guild = fake.add_guild(f"guild {shard_id}.{n}", shard=(shard_id, SHARDS))
            guild.add_member("alice")
            guild.add_text_channel("general")
            guilds[shard_id].append(guild)
    return guilds


def alice(guild: Guild) -> Member:
    """Return the member "alice" of a guild made by :func:`spread_guilds`."""
    return next(m for m in guild.members.values() if m.user.username == "alice")


def ids(guilds: list[Guild]) -> set[int]:
    """Return the ids of ``guilds``."""
    return {g.id for g in guilds}


def sent_per_shard(fake: FakeDiscord, event: str, after: int = 0) -> dict[Shard | None, set[int]]:
    """Guild ids of the ``event`` dispatches sent (from ``fake.gateway.sent[after:]``), by the session's shard."""
    out: dict[Shard | None, set[int]] = {}
    for sent in fake.gateway.sent[after:]:
        if sent.event == event:
            key = "id" if event.startswith("GUILD_") else "guild_id"
            out.setdefault(sent.shard, set()).add(int(sent.data[key]))
    return out


@pytest.fixture
def guilds(fake: FakeDiscord) -> dict[int, list[Guild]]:
    """Two guilds in every one of 4 shards."""
    return spread_guilds(fake)


@pytest.fixture
async def bot(fake: FakeDiscord, guilds: dict[int, list[Guild]]) -> AsyncIterator[Bot]:
    """Run all 4 shards in one client, commands synced."""
    sharded = sharded_bot("one", shard_count=SHARDS)
    async with connected_client(fake, sharded.client):
        await sharded.tree.sync()
        yield sharded


def test_add_guild_picks_an_id_in_the_shard(fake: FakeDiscord) -> None:
    """``add_guild(shard=...)`` makes ids owned by that shard, still increasing; an impossible shard is an error."""
    made = [fake.add_guild(f"g{n}", shard=(n % 3, 3)) for n in range(9)]
    assert [shard_of(g.id, 3) for g in made] == [n % 3 for n in range(9)]
    assert [g.id for g in made] == sorted(g.id for g in made) and len({g.id for g in made}) == 9
    with pytest.raises(ValueError, match=r"not in 0\.\.2"):
        fake.add_guild("nowhere", shard=(3, 3))


def test_identify_shard_validation() -> None:
    """IDENTIFY's shard must be [id, count] with 0 <= id < count; no shard means unsharded."""
    assert parse_shard(None) is None
    assert parse_shard([3, 4]) == (3, 4)
    for bad in ([4, 4], [-1, 4], [0, 0], [1], "0,1", [True, 2], [0.0, 1]):
        with pytest.raises(InvalidShard):
            parse_shard(bad)


async def test_each_shard_receives_only_its_guilds(fake: FakeDiscord, guilds: dict[int, list[Guild]], bot: Bot) -> None:
    """Four shards in one client: each READY and GUILD_CREATE burst holds exactly its shard's guilds; all 8 seen."""
    assert sorted(c for c in fake.connections if c is not None) == [(s, SHARDS) for s in range(SHARDS)]
    identified = [f["d"]["shard"] for f in fake.gateway.received if f.get("op") == 2]
    assert sorted(identified) == [[s, SHARDS] for s in range(SHARDS)]
    readies = {e.shard: e.data for e in fake.gateway.sent if e.event == "READY"}
    assert {shard: {int(g["id"]) for g in data["guilds"]} for shard, data in readies.items()} == {
        (s, SHARDS): ids(guilds[s]) for s in range(SHARDS)
    }
    assert all(data["shard"] == list(shard) for shard, data in readies.items() if shard is not None)
    assert sent_per_shard(fake, "GUILD_CREATE") == {(s, SHARDS): ids(guilds[s]) for s in range(SHARDS)}
    assert {g.id for g in bot.client.guilds} == set().union(*(ids(g) for g in guilds.values()))
    for shard_id, in_shard in guilds.items():
        for guild in in_shard:
            cached = bot.client.get_guild(guild.id)
            assert cached is not None and cached.shard_id == shard_id == (guild.id >> 22) % SHARDS


async def test_guild_events_and_dms_follow_their_shard(
    fake: FakeDiscord, guilds: dict[int, list[Guild]], bot: Bot
) -> None:
    """A channel made in a guild of shard 3 reaches shard 3 only; a DM reaches shard 0 only."""
    mark = len(fake.gateway.sent)
    channel = guilds[3][1].add_text_channel("news")
    stranger = fake.create_user("stranger")
    fake.say(stranger, fake.world.dm_channel(stranger), "hello bot")
    await fake.sync()
    assert sent_per_shard(fake, "CHANNEL_CREATE", mark) == {(3, SHARDS): {guilds[3][1].id}}
    assert [e.shard for e in fake.gateway.sent[mark:] if e.event == "MESSAGE_CREATE"] == [(0, SHARDS)]
    assert bot.client.get_channel(channel.id) is not None


async def test_interaction_arrives_on_its_guilds_shard(
    fake: FakeDiscord, guilds: dict[int, list[Guild]], bot: Bot
) -> None:
    """An interaction in a guild of shard 2 is sent on shard 2's connection only, and the client answers it."""
    guild = guilds[2][0]
    handle = await fake.invoke(alice(guild), "where")
    assert (await handle.reply()).content == f"one answers in {guild.name}"
    assert handle.delivered_to == [(2, SHARDS)]
    assert [e.shard for e in fake.gateway.sent if e.event == "INTERACTION_CREATE"] == [(2, SHARDS)]
    assert bot.seen == [guild.id]


async def test_two_processes_split_the_shards(fake: FakeDiscord, guilds: dict[int, list[Guild]]) -> None:
    """Clients running shards 0-1 and 2-3 each see only their guilds and answer only their guilds' interactions."""
    low = sharded_bot("low", shard_count=SHARDS, shard_ids=[0, 1])
    high = sharded_bot("high", shard_count=SHARDS, shard_ids=[2, 3])
    async with connected_client(fake, low.client), connected_client(fake, high.client):
        await low.tree.sync()
        assert sorted(c for c in fake.connections if c is not None) == [(s, SHARDS) for s in range(SHARDS)]
        assert {g.id for g in low.client.guilds} == ids(guilds[0] + guilds[1])
        assert {g.id for g in high.client.guilds} == ids(guilds[2] + guilds[3])
        for shard_id, in_shard in guilds.items():
            for guild in in_shard:
                handle = await fake.invoke(alice(guild), "where")
                expected = "low" if shard_id < 2 else "high"
                assert (await handle.reply()).content == f"{expected} answers in {guild.name}"
                assert handle.delivered_to == [(shard_id, SHARDS)]
        assert low.seen == [g.id for g in guilds[0] + guilds[1]]
        assert high.seen == [g.id for g in guilds[2] + guilds[3]]


async def test_two_sessions_of_one_shard_both_receive(fake: FakeDiscord) -> None:
    """Two sessions for one shard (a rolling deploy) both get its interactions; once one closes, only the other."""
    guild = fake.add_guild("shared", shard=(1, 2))
    guild.add_member("alice")
    guild.add_text_channel("general")
    old = sharded_bot("old", shard_count=2, shard_ids=[1])
    new = sharded_bot("new", shard_count=2, shard_ids=[1])
    async with connected_client(fake, new.client):
        await new.tree.sync()
        async with connected_client(fake, old.client):
            assert fake.connections == [(1, 2), (1, 2)]
            both = await fake.invoke(alice(guild), "where")
            assert both.delivered_to == [(1, 2), (1, 2)]
            winner = (await both.reply()).content.split()[0]
            # Whichever client answered second is refused, as Discord refuses a second acknowledgement.
            loser = old if winner == "new" else new
            assert await asyncio.wait_for(loser.refused.get(), 5.0) == 40060
            assert old.seen == new.seen == [guild.id]
        # The old client closed normally (1000): its session ends, so the shard's events go to the new one only.
        await fake.gateway.changed.wait_for(lambda: len(fake.gateway.owners(guild.id)) == 1, 5.0, "the session to end")
        assert fake.connections == [(1, 2)]
        after = await fake.invoke(alice(guild), "where")
        assert after.delivered_to == [(1, 2)]
        assert (await after.reply()).content == f"new answers in {guild.name}"


async def test_recommended_shard_count(fake: FakeDiscord) -> None:
    """Without ``shard_count`` discord.py runs ``GET /gateway/bot``'s recommended count of shards."""
    fake.recommended_shards = 3
    made = [fake.add_guild(f"g{s}", shard=(s, 3)) for s in range(3)]
    bot = sharded_bot("auto")
    async with connected_client(fake, bot.client):
        assert bot.client.shard_count == 3
        assert sorted(c for c in fake.connections if c is not None) == [(0, 3), (1, 3), (2, 3)]
        assert {g.id: g.shard_id for g in bot.client.guilds} == {g.id: s for s, g in enumerate(made)}


async def test_invalid_shard_is_refused_with_4010(fake: FakeDiscord) -> None:
    """IDENTIFY with shard [4, 4] is closed with 4010; discord.py gives up with that code."""
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url) as ws:
        assert json.loads((await ws.receive()).data)["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "properties": {}, "shard": [4, 4]}})
        closing = await ws.receive()
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == INVALID_SHARD_CLOSE_CODE
    bot = sharded_bot("wrong", shard_count=2, shard_ids=[2])
    with pytest.raises(discord.ConnectionClosed) as refused:
        async with connected_client(fake, bot.client):
            pass
    assert refused.value.code == INVALID_SHARD_CLOSE_CODE
    assert fake.gateway.identify_count == 0 and not fake.gateway.sessions
