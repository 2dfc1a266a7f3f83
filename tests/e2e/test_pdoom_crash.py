"""Kill the bot process in the middle of a burst of votes: every acknowledged vote survives, none twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.conftest import Server
from tests.fakediscord import FakeDiscord
from tests.processes import bot_environment, start_process


async def test_acknowledged_votes_survive_a_kill(fake: FakeDiscord, server: Server, tmp_path: Path) -> None:
    """SIGKILL during 150 concurrent votes: each acknowledged vote is in the database once; a restart counts them."""
    database = tmp_path / "crash.sqlite3"
    members = [server.guild.add_member(f"member{i}") for i in range(150)]
    process = await start_process(fake, bot_environment(fake, database))
    try:
        await (await fake.invoke(server.admin, "pdoom open", channel=server.general)).reply(timeout=10)
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
        await (await fake.invoke(server.admin, "pdoom close", channel=server.general)).reply(timeout=15)
        results = await fake.wait_for_message(server.general, lambda m: "round 1 results" in m.text, timeout=15)
        assert f"Respondents\n{len(current)}" in results.text
    finally:
        process.terminate()
        await process.wait()
