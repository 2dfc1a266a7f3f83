"""The bot sharded: one process running every shard, and two processes sharing the shards and one database.

Eight servers over four shards (two each). Each process receives only its shards' servers, answers their commands,
and does their background work; only the process that runs shard 0 syncs the commands.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.bot import AlignmentBot
from bot.domain.prompts import Schedule
from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL, create_database, drop_database, new_database_name
from tests.e2e.conftest import BotRunner, Community
from tests.e2e.test_prompts import DUE, cog, handled_now, marker_of, prompt_posts
from tests.fakediscord import FakeDiscord, Permissions, shard_of

SHARDS = 4


def sharded_runner(fake: FakeDiscord, tmp_path: Path, postgres_url: str | None, **shards: str) -> BotRunner:
    """Return a runner whose bot runs with these SHARD_COUNT / SHARD_IDS settings, on the given database."""
    runner = BotRunner(fake, tmp_path)
    runner.postgres_url = postgres_url
    runner.settings_overrides = dict(shards)
    return runner


def spread_communities(fake: FakeDiscord) -> list[Community]:
    """Add two servers to every one of the 4 shards, each with an admin, #prompts and #mods; in shard order.

    The fake lets all 4 shards identify at once (its session start limit's max_concurrency), as Discord does for
    large bots, so a bot starts its shards without discord.py's 5 s step between them.
    """
    fake.max_concurrency = SHARDS
    communities = []
    for shard_id in range(SHARDS):
        for n in range(2):
            guild = fake.add_guild(f"community {shard_id}.{n}", shard=(shard_id, SHARDS))
            admin = guild.add_member(f"admin-{shard_id}-{n}", permissions=Permissions.MANAGE_GUILD)
            prompts, mods = guild.add_text_channel("prompts"), guild.add_text_channel("mods")
            communities.append(Community(fake, guild, admin, prompts, mods))
    return communities


@pytest.fixture
def communities(fake: FakeDiscord) -> list[Community]:
    """Eight servers, two on each of 4 shards."""
    return spread_communities(fake)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def postgres_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """Return None (the runners share a SQLite file) or the URL of a new PostgreSQL database, dropped after."""
    if request.param == "sqlite":
        yield None
        return
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    name = new_database_name()
    yield await create_database(name)
    await drop_database(name)


def record_posts(bot: AlignmentBot) -> list[int]:
    """Return a list that collects the server of every weekly prompt this bot's scheduler posts."""
    poster = cog(bot).scheduler.poster
    real_post = poster.post
    posted: list[int] = []

    async def post(schedule: Schedule, *args: Any, **kwargs: Any) -> str:
        posted.append(schedule.guild_id)
        return await real_post(schedule, *args, **kwargs)

    poster.post = post
    return posted


async def test_one_process_runs_every_shard_and_answers_everywhere(
    fake: FakeDiscord, communities: list[Community], tmp_path: Path
) -> None:
    """SHARD_COUNT=4 alone: four connections in one process, each server's command answered on its own shard."""
    runner = sharded_runner(fake, tmp_path, None, shard_count="4")
    try:
        bot = await runner.start()
        assert bot.shard_count == SHARDS and sorted(bot.shards) == [0, 1, 2, 3]
        assert sorted(c for c in fake.connections if c is not None) == [(s, SHARDS) for s in range(SHARDS)]
        assert fake.sync_count == 1  # the one process runs shard 0, so it syncs
        for place in communities:
            shard_id = shard_of(place.guild.id, SHARDS)
            assert bot.owns_guild(place.guild.id)
            handle = await fake.invoke(place.admin, "about", channel=place.prompts)
            reply = await handle.reply()
            assert reply.embeds and reply.ephemeral
            assert handle.delivered_to == [(shard_id, SHARDS)]
            assert bot.get_guild(place.guild.id).shard_id == shard_id  # type: ignore[union-attr]
    finally:
        await runner.stop()


async def test_two_processes_split_the_shards_and_post_each_prompt_once(
    fake: FakeDiscord,
    communities: list[Community],
    tmp_path: Path,
    postgres_url: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Shards 0-1 and 2-3 in two bots on one database: each posts its own servers' due prompts, exactly once."""
    low = sharded_runner(fake, tmp_path, postgres_url, shard_count="4", shard_ids="0-1")
    high = sharded_runner(fake, tmp_path, postgres_url, shard_count="4", shard_ids="2-3")
    high.clock = low.clock  # one time for both processes (and for the fake's message ids)
    owned_by_low = [c for c in communities if shard_of(c.guild.id, SHARDS) < 2]
    owned_by_high = [c for c in communities if shard_of(c.guild.id, SHARDS) >= 2]
    try:
        with caplog.at_level(logging.INFO, logger="bot.bot"):
            low_bot, high_bot = await low.start(), await high.start()
        # Only shard 0's process synced the commands; the other said why it did not.
        assert fake.sync_count == 1
        assert any("Not syncing commands" in r.getMessage() for r in caplog.records)
        assert sorted(c for c in fake.connections if c is not None) == [(s, SHARDS) for s in range(SHARDS)]
        assert {g.id for g in low_bot.guilds} == {c.guild.id for c in owned_by_low}
        assert {g.id for g in high_bot.guilds} == {c.guild.id for c in owned_by_high}
        # /about counts the servers this process knows, and says which shards those are.
        about = await (await fake.invoke(owned_by_high[0].admin, "about", channel=owned_by_high[0].prompts)).reply()
        assert {"name": "Servers", "value": "4 on shards 2-3 of 4 (this process)", "inline": False} in about.embeds[0][
            "fields"
        ]
        for place in communities:
            assert low_bot.owns_guild(place.guild.id) == (place in owned_by_low) != high_bot.owns_guild(place.guild.id)
            # Each admin schedules in their server; the command reaches (and is answered by) the owning process.
            handle = await fake.invoke(
                place.admin,
                "prompts-admin schedule",
                {"channel": place.prompts, "weekday": 4, "time": "19:00", "timezone": "Europe/London"},
                channel=place.prompts,
            )
            assert "Fridays at 19:00" in (await handle.reply()).content
            assert handle.delivered_to == [(shard_of(place.guild.id, SHARDS), SHARDS)]
        # A process starting up must not take the other process's servers for servers it was removed from.
        high_bot = await high.restart()
        await handled_now(high, high_bot)
        for place in communities:
            saved = await low_bot.db.schedules.get_schedule(place.guild.id)
            assert saved is not None and not saved.absent
        assert fake.sync_count == 1
        posted_by = {"low": record_posts(low_bot), "high": record_posts(high_bot)}
        await low.clock.advance(DUE - low.clock.now())
        for place in communities:
            await fake.wait_for_message(place.prompts, lambda message: marker_of(message) is not None)
        # Both schedulers have since finished a pass at the due moment: a second copy would be there by now.
        await handled_now(low, low_bot)
        await handled_now(high, high_bot)
        assert [len(prompt_posts(fake, place.prompts)) for place in communities] == [1] * len(communities)
        assert sorted(posted_by["low"]) == sorted(c.guild.id for c in owned_by_low)
        assert sorted(posted_by["high"]) == sorted(c.guild.id for c in owned_by_high)
    finally:
        await high.stop()
        await low.stop()
