"""Two real bot processes (`python -m bot`) sharing the shards and one PostgreSQL database (issue 11).

Eight servers over four shards; one process runs shards 0-1, the other 2-3. The processes run on the real clock, so
"a weekly post is due" and "a round's closing time passed" are written into the database before a process starts (a
process reads them at its first pass), the way they would stand after a deploy or a crash. Absence checks after a
restart come once the restarted process has logged that its closer and scheduler caught up: a second copy would come
from those first passes.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.db import Database
from bot.db.rows import to_sql
from bot.domain.pdoom import bucket_estimate
from bot.domain.prompts import Schedule
from tests.fakediscord import Channel, FakeDiscord, Guild, Member, Message, Permissions, running_fake, shard_of
from tests.processes import ROOT, bot_environment

SHARDS = 4
PROCESS_SHARDS = {"low": (0, 1), "high": (2, 3)}
START_TIMEOUT = 60.0
ACK_TIMEOUT = 6.0  # a vote the bot received is answered well within this; one sent to a killed process never is
# Logged by each background loop once its first pass after the start has succeeded (bot/background.py).
CAUGHT_UP = ("pdoom-closer: caught up after the start", "prompts-scheduler: caught up after the start")
SUGGEST, RESULTS = "align:prompt:suggest:", "align:pdoom:mine:"

pytestmark = pytest.mark.postgresql


@dataclass
class Place:
    """One server: its admin, members, #polls and #prompts, and the round opened in it."""

    guild: Guild
    admin: Member
    members: list[Member]
    polls: Channel
    prompts: Channel
    poll: Message | None = None
    round_id: int = 0


@dataclass
class BotProcess:
    """A `python -m bot` process running some shards, restartable with the same settings."""

    fake: FakeDiscord
    env: dict[str, str]
    shards: tuple[int, ...]
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = field(default=0)

    async def start(self) -> None:
        """Start the process and wait until a new session of each of its shards has READY and its servers."""
        known = await self.spawn()
        await self.wait_ready(known)

    async def spawn(self) -> set[str]:
        """Start the process without waiting for it; return the gateway sessions that existed before it."""
        known = set(self.fake.gateway.sessions)
        self.starts += 1
        with self.log.open("ab") as sink:
            sink.write(f"--- start {self.starts}\n".encode())
            sink.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=self.env, stdout=sink, stderr=sink
            )
        return known

    async def wait_ready(self, known: set[str]) -> None:
        """Wait until a session not in `known` of each of this process's shards has READY and its servers."""

        def ready() -> bool:
            fresh = {
                s.shard[0]
                for key, s in self.fake.gateway.sessions.items()
                if key not in known
                and s.shard
                and s.live
                and s.connection
                and s.connection.sent_seq >= s.initial_seq > 0
            }
            return fresh >= set(self.shards)

        try:
            await self.fake.gateway.changed.wait_for(ready, START_TIMEOUT, f"shards {self.shards} to be READY")
            await self.fake.sync(timeout=START_TIMEOUT)
        except BaseException:
            await self.kill()
            raise

    async def caught_up(self) -> None:
        """Wait until, since its latest start, the process logged that its closer and scheduler caught up."""

        def logged() -> bool:
            latest = self.log.read_text().rpartition(f"--- start {self.starts}\n")[2]
            return all(line in latest for line in CAUGHT_UP)

        async with asyncio.timeout(START_TIMEOUT):
            while not logged():
                await asyncio.sleep(0.05)

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        """Send `how` and return the exit code (a SIGTERM must end the process cleanly, on its own)."""
        assert self.process is not None
        self.process.send_signal(how)
        try:
            return await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL the process if it is still running."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def add_places(fake: FakeDiscord) -> list[Place]:
    """Add two servers on each of the four shards, each with an admin, six members, #polls and #prompts."""
    places = []
    for shard_id in range(SHARDS):
        for n in range(2):
            guild = fake.add_guild(f"community {shard_id}.{n}", shard=(shard_id, SHARDS))
            admin = guild.add_member(f"admin-{shard_id}-{n}", permissions=Permissions.MANAGE_GUILD)
            members = [guild.add_member(f"member-{shard_id}-{n}-{i}") for i in range(6)]
            places.append(
                Place(guild, admin, members, guild.add_text_channel("polls"), guild.add_text_channel("prompts"))
            )
    return places


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Run a fake Discord whose four shards may identify at once (as Discord lets large bots)."""
    async with running_fake() as fake:
        fake.max_concurrency = SHARDS
        yield fake


def processes(fake: FakeDiscord, tmp_path: Path, url: str) -> dict[str, BotProcess]:
    """Return the two processes, not yet started: shards 0-1 and 2-3 of 4, on the one database."""
    return {
        name: BotProcess(
            fake,
            bot_environment(
                fake,
                tmp_path / "unused.sqlite3",
                DATABASE_URL=url,
                SHARD_COUNT=str(SHARDS),
                SHARD_IDS=f"{shards[0]}-{shards[-1]}",
                LOG_LEVEL="INFO",
            ),
            shards,
            tmp_path / f"{name}.log",
        )
        for name, shards in PROCESS_SHARDS.items()
    }


async def seed_due_schedules(url: str, places: list[Place], now: datetime) -> None:
    """Give every server a weekly schedule whose post fell due a minute ago (the prompts are imported on start)."""
    due = now - timedelta(minutes=1)
    db = await Database.open(url)
    try:
        for place in places:
            await db.schedules.save_schedule(
                Schedule(
                    guild_id=place.guild.id,
                    channel_id=place.prompts.id,
                    weekday=due.weekday(),
                    local_time=due.time().replace(second=0, microsecond=0),
                    timezone="UTC",
                    ping_role_id=None,
                    open_thread=True,
                    mod_channel_id=None,
                    paused=False,
                    skip_next=False,
                    grace_hours=12,
                    next_due_at=due,
                    next_local_date=due.date().isoformat(),
                    last_outcome=None,
                )
            )
    finally:
        await db.close()


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    """Run one query on the bot's database and return its rows."""
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def posts(fake: FakeDiscord, channel: Channel, marker: str) -> list[Message]:
    """Return the bot's messages in a channel that carry a component whose custom_id starts with `marker`."""
    return [
        m
        for m in fake.messages_in(channel)
        if m.author.id == fake.bot_user.id and any(cid.startswith(marker) for cid in m.custom_ids)
    ]


async def wait_for_posts(fake: FakeDiscord, channels: list[Channel], marker: str) -> None:
    """Wait until each channel holds a post carrying `marker`."""
    await fake.changed.wait_for(
        lambda: all(posts(fake, channel, marker) for channel in channels), 30, f"a {marker}* post in every channel"
    )


async def open_round(fake: FakeDiscord, place: Place) -> None:
    """Open a round in the server's #polls as its admin (answered by the process owning its shard)."""
    handle = await fake.invoke(place.admin, "pdoom-admin open", {"closes_in_hours": 1}, channel=place.polls)
    await handle.reply(timeout=ACK_TIMEOUT)
    assert handle.delivered_to == [(shard_of(place.guild.id, SHARDS), SHARDS)]
    place.poll = await fake.wait_for_message(place.polls, lambda m: bool(m.custom_ids), timeout=ACK_TIMEOUT)
    place.round_id = int(place.poll.custom_ids[0].split(":")[3])  # align:pdoom:b:ROUND:BUCKET


@dataclass
class Burst:
    """Votes clicked in every server: what was sent and what the bot acknowledged."""

    sent: Counter[int] = field(default_factory=Counter)  # round id -> clicks sent
    acknowledged: Counter[tuple[int, int, float]] = field(default_factory=Counter)  # (round, user, value) -> acks

    async def click(self, fake: FakeDiscord, place: Place, member: Member, bucket: int) -> None:
        """Click one bucket button; count it acknowledged if the bot answered it."""
        assert place.poll is not None
        self.sent[place.round_id] += 1
        handle = await fake.click(member, place.poll, f"align:pdoom:b:{place.round_id}:{bucket}")
        try:
            await handle.response(timeout=ACK_TIMEOUT)
        except TimeoutError:
            return  # sent to a process that was killed: never acknowledged, so it may or may not be stored
        assert handle.ephemeral
        self.acknowledged[(place.round_id, member.user.id, bucket_estimate(bucket).value)] += 1


def log_tail(bots: dict[str, BotProcess]) -> str:
    """Return the end of each process's output, for a failing assertion's message."""
    return "\n".join(f"== {name}\n{b.log.read_text()[-3000:]}" for name, b in bots.items() if b.log.exists())


async def test_two_processes_store_every_vote_once_and_post_each_prompt_and_result_once(
    fake: FakeDiscord, tmp_path: Path, postgres_database: str
) -> None:
    """A vote burst in all 8 servers while one process is SIGKILLed and started again; then a rolling restart.

    Every acknowledged vote is stored, none twice; every server's weekly prompt is posted once; every round's
    results once, by the process owning the round's shard, even after another SIGKILL and restart.
    """
    places = add_places(fake)
    url = postgres_database
    await seed_due_schedules(url, places, datetime.now(UTC))
    bots = processes(fake, tmp_path, url)
    high_places = [p for p in places if shard_of(p.guild.id, SHARDS) in PROCESS_SHARDS["high"]]
    try:
        await bots["low"].start()  # first: it runs shard 0, so it syncs the commands
        await bots["high"].start()
        # Each process posts its own servers' due prompt at its first pass.
        await wait_for_posts(fake, [p.prompts for p in places], SUGGEST)
        for place in places:
            await open_round(fake, place)

        burst, rng = Burst(), random.Random(11)
        high_up = asyncio.Event()
        high_up.set()
        killed = asyncio.Event()
        slots = asyncio.Semaphore(24)

        async def vote(index: int) -> None:
            place = places[index % len(places)]
            while True:
                async with slots:  # while the high process is down, its servers' votes wait without a slot
                    if place not in high_places or high_up.is_set():
                        await burst.click(fake, place, place.members[index % len(place.members)], rng.randrange(8))
                        break
                await high_up.wait()
            if index == 120:  # a third of the way in, with votes in flight in every server
                killed.set()

        async def kill_and_restart_high() -> None:
            await killed.wait()
            high_up.clear()
            await bots["high"].stop(signal.SIGKILL)
            await bots["high"].start()  # its lease went with its connection: it takes its shards at once
            high_up.set()

        await asyncio.gather(kill_and_restart_high(), *(vote(i) for i in range(360)))
        assert bots["high"].starts == 2

        votes = await fetch(url, "SELECT round_id, user_id, value FROM pdoom_votes")
        stored = Counter((r["round_id"], r["user_id"], r["value"]) for r in votes)
        lost = burst.acknowledged - stored
        assert not lost, f"acknowledged votes missing from the database: {lost}"
        per_round = Counter(r["round_id"] for r in votes)
        assert all(per_round[round_id] <= sent for round_id, sent in burst.sent.items()), (per_round, burst.sent)
        assert sum(burst.acknowledged.values()) >= 300  # only the clicks in flight at the kill went unanswered

        # The rounds' closing time passes while both processes are replaced, one after the other.
        await fetch(url, "UPDATE pdoom_rounds SET closes_at = $1 WHERE closed_at IS NULL", to_sql(datetime.now(UTC)))
        for name in ("low", "high"):
            assert await bots[name].stop() == 0, log_tail(bots)
            await bots[name].start()
        await wait_for_posts(fake, [p.polls for p in places], RESULTS)
        # Killed once more and started again: nothing already posted is posted twice.
        await bots["high"].stop(signal.SIGKILL)
        await bots["high"].start()
        await bots["high"].caught_up()

        assert [len(posts(fake, p.prompts, SUGGEST)) for p in places] == [1] * 8, log_tail(bots)
        assert [len(posts(fake, p.polls, RESULTS)) for p in places] == [1] * 8, log_tail(bots)
        rounds = await fetch(url, "SELECT id, results_message_id FROM pdoom_rounds")
        assert {r["id"]: r["results_message_id"] for r in rounds} == {
            p.round_id: posts(fake, p.polls, RESULTS)[0].id for p in places
        }
        recorded = await fetch(url, "SELECT guild_id, status, message_id FROM prompt_posts")
        assert sorted((r["guild_id"], r["status"], r["message_id"]) for r in recorded) == sorted(
            (p.guild.id, "posted", posts(fake, p.prompts, SUGGEST)[0].id) for p in places
        )
    finally:
        for bot in bots.values():
            await bot.kill()


async def test_a_rolling_deploy_across_a_due_time_posts_once(
    fake: FakeDiscord, tmp_path: Path, postgres_database: str
) -> None:
    """A new process for the same shards starts while the old one runs; the posts fall due during the handover.

    The new one waits for the old one's lease; the old one is stopped (SIGTERM) in the middle of the due times; each
    server's prompt is posted exactly once, some by the old process and the rest by the new one.
    """
    places = add_places(fake)
    url = postgres_database
    now = datetime.now(UTC)
    await seed_due_schedules(url, places, now)
    # Due one after another, a second apart, from a few seconds after the old processes are up (they start in about
    # 3 s, together); the old processes are stopped half-way through. On a slower machine more posts fall to the old
    # processes; each server's post is still made exactly once.
    handover = now + timedelta(seconds=10)
    for index, place in enumerate(places):
        due = to_sql(handover + timedelta(seconds=index - 4))  # whole seconds: 4 s before the handover to 3 s after
        await fetch(url, "UPDATE prompt_schedules SET next_due_at = $1 WHERE guild_id = $2", due, place.guild.id)
    (tmp_path / "new").mkdir()
    old, new = processes(fake, tmp_path, url), processes(fake, tmp_path / "new", url)
    try:
        await asyncio.gather(*(process.start() for process in old.values()))
        known = set(fake.gateway.sessions)
        for name in ("low", "high"):
            new[name].env["SHARD_LEASE_WAIT"] = "60"  # waits for the old process's lease
            await new[name].spawn()
        await asyncio.sleep(max((handover - datetime.now(UTC)).total_seconds(), 0))
        for name in ("low", "high"):
            assert await old[name].stop() == 0, log_tail(old)
        for name in ("low", "high"):
            await new[name].wait_ready(known)
            await new[name].caught_up()
        await wait_for_posts(fake, [p.prompts for p in places], SUGGEST)
        assert [len(posts(fake, p.prompts, SUGGEST)) for p in places] == [1] * 8, log_tail(old) + log_tail(new)
        recorded = await fetch(url, "SELECT guild_id, status FROM prompt_posts")
        assert sorted(r["guild_id"] for r in recorded if r["status"] == "posted") == sorted(p.guild.id for p in places)
    finally:
        for group in (old, new):
            for bot in group.values():
                await bot.kill()
