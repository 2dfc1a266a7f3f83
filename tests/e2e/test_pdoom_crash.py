"""Crashes: no acknowledged vote is lost, and results posted but not recorded are never posted twice."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import discord
import pytest

from bot.bot import AlignmentBot
from bot.domain import pdoom_cards
from bot.domain.pdoom import PollRound
from tests.e2e.conftest import BotRunner, Server, eventually
from tests.e2e.test_pdoom import closer_pass, open_poll, results_posts, vote
from tests.fakediscord import FakeDiscord
from tests.processes import bot_environment, start_process


async def test_acknowledged_votes_survive_a_kill(fake: FakeDiscord, server: Server, tmp_path: Path) -> None:
    """SIGKILL during 150 concurrent votes: each acknowledged vote is in the database once; a restart counts them."""
    database = tmp_path / "crash.sqlite3"
    members = [server.guild.add_member(f"member{i}") for i in range(150)]
    process = await start_process(fake, bot_environment(fake, database))
    try:
        await (await fake.invoke(server.admin, "pdoom-admin open", channel=server.general)).reply(timeout=10)
        poll = await fake.wait_for_message(server.general, lambda m: "P(doom) round" in m.text)
        round_id = poll.custom_ids[0].split(":")[3]
        handles = [await fake.click(m, poll, f"align:pdoom:b:{round_id}:{i % 8}") for i, m in enumerate(members)]
        await fake.changed.wait_for(lambda: sum(h.acknowledged for h in handles) >= 40, 20, "40 acknowledged votes")
    finally:
        process.kill()
        await process.wait()
    acknowledged = {h.user.id for h in handles if h.acknowledged}
    assert 40 <= len(acknowledged) < len(members), "the kill should land mid-burst"

    with sqlite3.connect(database) as conn:
        current = dict(conn.execute("SELECT user_id, value FROM pdoom_current").fetchall())
        submissions = conn.execute("SELECT user_id, count(*) FROM pdoom_votes GROUP BY user_id").fetchall()
    assert acknowledged <= set(current)
    assert all(count == 1 for _, count in submissions)

    process = await start_process(fake, bot_environment(fake, database))
    try:
        await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply(timeout=15)
        results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text, timeout=15)
        assert f"Respondents\n{len(current)}" in results.text
    finally:
        process.terminate()
        await process.wait()


async def crash(*args: object, **kwargs: object) -> None:
    """Stand in for recording the results post: the process dies right after posting."""
    raise RuntimeError("the process died here")


def recorded_results(bot: AlignmentBot, server: Server) -> Callable[[], Awaitable[int | None]]:
    """Return a check for `eventually`: the id recorded as the latest round's results post."""

    async def recorded() -> int | None:
        latest = await bot.db.polls.latest_round(server.guild.id)
        return latest.results_message_id if latest else None

    return recorded


async def post_results_and_die(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Open a round, vote, and close it, dying right after the results are posted."""
    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll)
    bot.db.polls.set_results_message = crash  # type: ignore[method-assign]
    reply = await (await fake.invoke(server.admin, "pdoom-admin close", channel=server.general)).reply()
    assert "I'll keep trying" in reply.content


async def test_results_reworded_between_the_crash_and_the_restart_are_not_posted_again(
    fake: FakeDiscord, server: Server, runner: BotRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results reworded before the restart are found by their marker button: posted exactly once, and recorded.

    Neither wording is the one older versions used, so only the marker can find the earlier post.
    """

    def first(poll: PollRound) -> str:
        return f"Where round {poll.number} ended up"

    def second(poll: PollRound) -> str:
        return f"Round {poll.number}, results"

    monkeypatch.setattr(pdoom_cards, "results_title", first)
    bot = await runner.start()
    await post_results_and_die(fake, server, bot)
    posted = await fake.wait_for_message(server.general, lambda m: "Where round 1 ended up" in m.text)
    monkeypatch.setattr(pdoom_cards, "results_title", second)
    bot = await runner.restart()
    assert await eventually(recorded_results(bot, server)) == posted.id
    await closer_pass(bot)
    assert [m.id for m in results_posts(fake, server)] == [posted.id]
    assert not [m for m in fake.messages_in(server.general) if "Round 1, results" in m.text]


async def test_results_posted_by_an_older_version_are_found_by_their_old_title(
    fake: FakeDiscord, server: Server, runner: BotRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unrecorded results post made before posts carried a marker is recognised by its old title, not reposted."""
    bot = await runner.start()
    closer = sys.modules[type(bot.get_cog("RoundCloser")).__module__]  # this run's module; a restart loads it anew
    monkeypatch.setattr(closer, "results_view", lambda round_id: discord.ui.View())  # as older versions posted
    await post_results_and_die(fake, server, bot)
    posted = await fake.wait_for_message(server.general, lambda m: "P(doom) round 1 results:" in m.text)
    assert posted.custom_ids == []
    bot = await runner.restart()
    assert await eventually(recorded_results(bot, server)) == posted.id
    await closer_pass(bot)
    assert [m.id for m in fake.messages_in(server.general) if "round 1 results" in m.text] == [posted.id]
