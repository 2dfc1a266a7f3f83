"""The health listener against the real bot and the fake Discord.

/healthz, /readyz through READY and a gateway drop, and /metrics (Prometheus text) whose counters move as members
and the background loops act.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.bot import AlignmentBot
from bot.errors import StartupError
from bot.health import HealthService
from tests.e2e.conftest import BotRunner, LockedOnce, Server, eventually
from tests.e2e.test_pdoom import open_poll, type_estimate, vote
from tests.e2e.test_prompts import prompt_posts, schedule
from tests.fakediscord import FakeDiscord

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Probe:
    """The bot's health service (on a port the system picks) and an HTTP client for it."""

    def __init__(self, runner: BotRunner, tmp_path: Path) -> None:
        self.service: HealthService | None = None
        self.prepared = asyncio.Event()
        self.heartbeat = tmp_path / "bot.heartbeat"

        def prepare(bot: AlignmentBot) -> None:
            # Before the bot connects, as run_bot does, so the service sees READY and every drop.
            self.service = HealthService(bot, bot.db, heartbeat=self.heartbeat, port=0)
            self.prepared.set()

        runner.prepare = prepare
        self.session = aiohttp.ClientSession()

    async def get(self, path: str) -> tuple[int, str]:
        """GET a path from the listener; return the status and body."""
        assert self.service is not None and self.service.bound_port is not None
        async with self.session.get(f"http://127.0.0.1:{self.service.bound_port}{path}") as response:
            return response.status, await response.text()

    async def metrics(self) -> Samples:
        """Scrape /metrics and parse it with Prometheus's own parser."""
        status, text = await self.get("/metrics")
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def ready_status(self) -> int:
        """Return /readyz's status code."""
        return (await self.get("/readyz"))[0]


@pytest.fixture
async def probe(runner: BotRunner, tmp_path: Path) -> AsyncIterator[Probe]:
    """Return a probe whose service is entered as soon as the runner builds the bot, and left after the test."""
    probe = Probe(runner, tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(probe.session.close)

        async def enter() -> None:
            await probe.prepared.wait()
            assert probe.service is not None
            await stack.enter_async_context(probe.service)

        entering = asyncio.create_task(enter())
        stack.callback(entering.cancel)
        probe.entered = entering  # type: ignore[attr-defined]
        yield probe


def held(target: Any, name: str) -> asyncio.Event:
    """Make the fake gateway's handler `name` (IDENTIFY or RESUME) wait until the returned event is set."""
    gate = asyncio.Event()
    real: Callable[..., Any] = getattr(target, name)

    async def waiting(*args: Any) -> Any:
        await gate.wait()
        return await real(*args)

    setattr(target, name, waiting)
    return gate


async def test_readyz_follows_ready_and_a_gateway_drop(fake: FakeDiscord, runner: BotRunner, probe: Probe) -> None:
    """/readyz is 503 before READY, 200 once ready, 503 while the gateway is down, 200 after RESUME; /healthz 200."""
    identify = held(fake.gateway, "_identify")
    starting = asyncio.create_task(runner.start())
    await probe.entered  # type: ignore[attr-defined]
    status, body = await probe.get("/readyz")
    assert (status, body) == (503, "not ready: not connected to Discord yet (waiting for READY)\n")
    assert await probe.get("/healthz") == (200, "ok\n")
    identify.set()
    await starting
    await eventually(lambda: _is(probe.ready_status(), 200))
    assert await probe.get("/readyz") == (200, "ready\n")

    resume = held(fake.gateway, "_resume")
    await fake.close_gateway(4000)
    await eventually(lambda: _is(probe.ready_status(), 503))
    status, body = await probe.get("/readyz")
    assert "the gateway connection of shard 0 dropped" in body
    assert await probe.get("/healthz") == (200, "ok\n")
    resume.set()
    await fake.wait_for_resume()
    await eventually(lambda: _is(probe.ready_status(), 200))


async def test_readyz_says_when_the_database_does_not_answer(runner: BotRunner, probe: Probe) -> None:
    """A database query that fails makes /readyz 503 naming the database, though the gateway is fine."""
    bot = await runner.start()
    await probe.entered  # type: ignore[attr-defined]
    real = bot.db.state.get_meta

    async def broken(key: str) -> str | None:
        raise OSError("disk gone")

    bot.db.state.get_meta = broken  # type: ignore[method-assign]
    try:
        assert await probe.get("/readyz") == (503, "not ready: the database query failed (OSError)\n")
    finally:
        bot.db.state.get_meta = real  # type: ignore[method-assign]
    assert await probe.ready_status() == 200


async def _is(status: Any, expected: int) -> bool:
    return bool(await status == expected)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample grew between two scrapes (absent counts as 0)."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_parse_and_move_as_the_bot_works(
    fake: FakeDiscord, server: Server, runner: BotRunner, probe: Probe
) -> None:
    """Commands, votes, bad input, a failed background pass, a weekly post and a reload each move their counter."""
    bot = await runner.start()
    await probe.entered  # type: ignore[attr-defined]
    before = await probe.metrics()
    assert ("alignment_bot_votes_recorded_total", ()) in before
    interactions = "alignment_bot_interactions_total"

    poll = await open_poll(fake, server)
    await vote(fake, server.member, poll)
    await type_estimate(fake, server.admin, poll, "12%")
    assert await type_estimate(fake, server.member, poll, "banana")  # answered with a sentence, nothing stored
    after = await probe.metrics()
    assert delta(before, after, interactions, command="/pdoom-admin open", outcome="ok") == 1
    assert delta(before, after, interactions, command="modal:align:pdoom:modal:#", outcome="user_error") == 1
    assert delta(before, after, interactions, command="component:align:pdoom:b:#:#", outcome="ok") == 1
    assert delta(before, after, interactions, command="modal:align:pdoom:modal:#", outcome="ok") == 1
    assert delta(before, after, "alignment_bot_votes_recorded_total") == 2
    # Every interaction's first response is timed: the open, the click, the form's opening and its submission...
    assert delta(before, after, "alignment_bot_ack_latency_seconds_count") >= 4
    assert after[("alignment_bot_ack_latency_seconds_bucket", (("le", "+Inf"),))] >= 4

    # A view's button (discord.py gives it a random custom_id, shown as #) counts when its callback finishes.
    asked = await (await fake.invoke(server.member, "pdoom forget", channel=server.general)).reply()
    confirm = next(c["custom_id"] for row in asked.components for c in row["components"] if "Delete" in c["label"])
    assert (await (await fake.click(server.member, asked, confirm)).reply()).content.startswith("Deleted")
    forgot = await probe.metrics()
    assert delta(after, forgot, interactions, command="/pdoom forget", outcome="ok") == 1
    assert delta(after, forgot, interactions, command="component:#", outcome="ok") == 1

    locked = LockedOnce(bot.db.polls.next_closing_time)
    bot.db.polls.next_closing_time = locked  # type: ignore[method-assign]
    bot.get_cog("RoundCloser").background.wake()  # type: ignore[union-attr]
    await eventually(lambda: _grew(probe, after, "alignment_bot_background_loop_restarts_total", loop="pdoom-closer"))
    assert delta(after, await probe.metrics(), "alignment_bot_errors_total", code="OperationalError") >= 1

    posted = await probe.metrics()
    await schedule(fake, server, server.general)
    await runner.clock.advance(timedelta(hours=7))
    await fake.wait_for_message(server.general, lambda m: bool(prompt_posts(fake, server.general)))
    await eventually(lambda: _grew(probe, posted, "alignment_bot_prompts_total", outcome="posted"))
    assert delta(posted, await probe.metrics(), "alignment_bot_scheduler_lag_seconds_count") == 1

    reloaded = await probe.metrics()
    await bot.get_cog("ContentAdmin").reload()  # type: ignore[union-attr]
    assert delta(reloaded, await probe.metrics(), "alignment_bot_content_reloads_total", outcome="ok") == 1


async def _grew(probe: Probe, before: Samples, name: str, **labels: str) -> bool:
    return delta(before, await probe.metrics(), name, **labels) >= 1


async def test_a_port_in_use_is_a_sentence_naming_health_port(runner: BotRunner, probe: Probe) -> None:
    """Starting a second listener on the first one's port fails with a StartupError naming HEALTH_PORT."""
    bot = await runner.start()
    await probe.entered  # type: ignore[attr-defined]
    assert probe.service is not None
    port = probe.service.bound_port
    assert port is not None
    second = HealthService(bot, bot.db, heartbeat=probe.heartbeat.with_name("other"), port=port)
    with pytest.raises(StartupError) as caught:
        async with second:
            pass
    assert str(caught.value).startswith(f"HEALTH_PORT={port} is already in use on 127.0.0.1")


async def test_the_heartbeat_file_is_written_and_removed(runner: BotRunner, probe: Probe) -> None:
    """While the service runs the heartbeat file exists and says ready once the bot is; it is removed at the end."""
    await runner.start()
    await probe.entered  # type: ignore[attr-defined]
    assert probe.service is not None
    probe.service.loop.wake()

    async def says_ready() -> bool:
        return probe.heartbeat.exists() and '"ready": true' in probe.heartbeat.read_text()

    await eventually(says_ready)
    await probe.service.__aexit__(None, None, None)
    assert not probe.heartbeat.exists()
