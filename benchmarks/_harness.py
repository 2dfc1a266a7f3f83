"""What the benchmarks share: starting a contender process (benchmarks/contenders.py) and driving it via the fake."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakediscord import Channel, FakeDiscord, Member, Message, Permissions, running_fake
from tests.processes import ROOT

Caller = Callable[[int], Awaitable[None]]  # does interaction number N against a bot


def percentile(samples: list[float], q: int) -> float:
    """Return the q-th percentile (1-99) of the samples."""
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def rss_mib(pid: int) -> float:
    """Return the resident set size of a process in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def wait_for_new_session(fake: FakeDiscord, known: set[str], timeout: float = 60.0) -> None:
    """Wait until a session not in `known` has been sent READY and its GUILD_CREATEs."""

    def ready() -> bool:
        for session_id, session in fake.gateway.sessions.items():
            connection = session.connection
            if session_id not in known and connection is not None and connection.sent_seq >= session.initial_seq > 0:
                return True
        return False

    await fake.gateway.changed.wait_for(ready, timeout, "a new session to become READY")


async def run_concurrently(total: int, in_flight: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(0)` .. `one(total - 1)`, at most `in_flight` at a time; return the elapsed seconds."""
    gate = asyncio.Semaphore(in_flight)

    async def gated(index: int) -> None:
        async with gate:
            await one(index)

    # The load generator's own garbage collector stays off while it measures: its full collections (the fake keeps
    # every interaction) paused this process for up to 3 s in long runs, so answers the bot sent on time were
    # read late, past the fake's 3 s deadline. The bot's process is untouched; the collection runs after.
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        await asyncio.gather(*(gated(i) for i in range(total)))
        return time.perf_counter() - start
    finally:
        gc.enable()
        gc.collect()


def vote_custom_id(poll: Message, bucket: int) -> str:
    """Return the custom_id of a P(doom) poll's bucket button (both bots use align:pdoom:b:ROUND:BUCKET)."""
    round_id = poll.custom_ids[0].split(":")[3]
    return f"align:pdoom:b:{round_id}:{bucket}"


async def cast_votes(
    fake: FakeDiscord, poll: Message, members: list[Member], total: int, in_flight: int, rng: random.Random
) -> tuple[float, list[float], int]:
    """Click bucket buttons `total` times, `in_flight` at a time; return elapsed s, latencies, acknowledged.

    A vote the bot answered after Discord's 3 s deadline is refused by the fake (10062) and never acknowledged: it
    counts in the latencies (as the time until the refusal) but not among the acknowledged.
    """
    latencies: list[float] = []
    acknowledged = 0

    async def one(index: int) -> None:
        nonlocal acknowledged
        member = members[index % len(members)]
        start = time.perf_counter()
        handle = await fake.click(member, poll, vote_custom_id(poll, rng.randrange(8)))
        await fake.changed.wait_for(lambda: handle.callback or handle.rejected, 30, f"an answer to {handle.id}")
        latencies.append((time.perf_counter() - start) * 1000)
        if handle.callback is not None:
            acknowledged += 1

    seconds = await run_concurrently(total, in_flight, one)
    return seconds, latencies, acknowledged


def subcommand(fake: FakeDiscord, group_prefix: str, name: str) -> str:
    """Return "group name" for the registered group starting with `group_prefix` that has subcommand `name`.

    Found rather than hard-coded, so moving admin subcommands to their own group does not break the benchmarks.
    """
    for command in fake.registered_commands():
        if str(command["name"]).startswith(group_prefix):
            for option in command.get("options") or []:
                if option.get("type") == 1 and option.get("name") == name:
                    return f"{command['name']} {name}"
    raise LookupError(f"no registered command group {group_prefix}* has a subcommand {name!r}")


@dataclass
class World:
    """One fake Discord with the benchmark's guild."""

    fake: FakeDiscord
    admin: Member
    members: list[Member]
    channel: Channel


@asynccontextmanager
async def new_world(members: int) -> AsyncIterator[World]:
    """Start a fresh fake Discord holding the benchmark guild: an admin, `members` members and #general."""
    async with running_fake() as fake:
        guild = fake.add_guild("Benchmark guild")
        admin = guild.add_member("admin", permissions=Permissions.MANAGE_GUILD)
        people = [guild.add_member(f"member{i}") for i in range(members)]
        yield World(fake, admin, people, guild.add_text_channel("general"))


def command_caller(
    world: World, command: str, options: list[dict[str, str]], expect: Callable[[Message], bool]
) -> Caller:
    """Return a function that invokes `command` once (options and members in turn) and checks the answer."""

    async def one(index: int) -> None:
        member = world.members[index % len(world.members)]
        handle = await world.fake.invoke(member, command, options[index % len(options)], channel=world.channel)
        answer = await handle.reply(timeout=30)
        if not (handle.ephemeral and expect(answer)):
            raise RuntimeError(f"/{command} did not answer as the benchmark expects: {answer.text[:200]!r}")

    return one


def vote_caller(world: World, poll: Message) -> Caller:
    """Return a function that clicks one of `poll`'s bucket buttons (members in turn, buckets at random)."""
    rng = random.Random(1)

    async def one(index: int) -> None:
        member = world.members[index % len(world.members)]
        handle = await world.fake.click(member, poll, vote_custom_id(poll, rng.randrange(8)))
        await handle.response(timeout=30)
        if not handle.ephemeral:
            raise RuntimeError("a vote was not acknowledged privately")

    return one


def shifted(one: Caller, first: int) -> Caller:
    """Return `one` with its index shifted by `first`, so a later batch uses later members and options."""
    return lambda index: one(first + index)


async def open_poll(world: World) -> Message:
    """Open a P(doom) round as the admin and return the poll message."""
    command = subcommand(world.fake, "pdoom", "open")
    await (await world.fake.invoke(world.admin, command, channel=world.channel)).reply(timeout=30)
    return await world.fake.wait_for_message(
        world.channel, lambda m: "P(doom) round" in m.text and bool(m.components), timeout=30
    )


@dataclass
class Sample:
    """What a probed contender said about itself at one moment."""

    cpu: float  # process CPU seconds, all threads (getrusage RUSAGE_SELF)
    loop_cpu: float  # CPU seconds of its main thread, the one running the event loop
    rss_mib: float
    gc_cpu: float  # CPU seconds spent in the garbage collector
    gc_full: int  # full (generation 2) collections
    at: float  # time.monotonic()


class Contender:
    """A `python -m benchmarks.contenders KIND --probe` process connected to a fake Discord."""

    def __init__(self, process: asyncio.subprocess.Process, spawned: float) -> None:
        self.process = process
        #: time.monotonic() just before the process was spawned, when its main began, when the fake sent READY.
        self.spawned, self.main_at, self.ready_at = spawned, 0.0, 0.0
        #: RSS when its main began, after the imports.
        self.main_rss_mib = 0.0

    @classmethod
    async def start(
        cls, fake: FakeDiscord, kind: str, env: dict[str, str], log: Path, timeout: float = 60.0
    ) -> Contender:
        """Spawn the contender and wait until the fake has sent it READY and its guilds."""
        known = set(fake.gateway.sessions)
        with open(log, "ab") as sink:  # the child keeps its own copy of the descriptor
            spawned = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.contenders",
                kind,
                "--probe",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=sink,
            )
        contender = cls(process, spawned)

        async def ready() -> float:
            await wait_for_new_session(fake, known, timeout)
            return time.monotonic()

        async def exited() -> None:
            code = await process.wait()
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{kind} exited with {code} before READY; the end of {log}:\n{tail}")

        watch = asyncio.ensure_future(exited())
        try:
            starting = asyncio.gather(contender._read(), ready())
            await asyncio.wait({starting, watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch.done():
                starting.cancel()
                watch.result()
            first, contender.ready_at = await starting
        except BaseException:
            await contender.stop()
            raise
        finally:
            watch.cancel()
        contender.main_at, contender.main_rss_mib = float(first["main"]), first["rss_kib"] / 1024
        return contender

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None  # noqa: S101 - spawned with a pipe
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"the contender (pid {self.process.pid}) exited with {await self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    async def ask(self, request: str) -> dict[str, Any]:
        """Send one probe request and return the answer."""
        assert self.process.stdin is not None  # noqa: S101 - spawned with a pipe
        self.process.stdin.write(f"{request}\n".encode())
        await self.process.stdin.drain()
        return await self._read()

    async def sample(self) -> Sample:
        """Return the contender's CPU so far and its RSS now."""
        answer = await self.ask("sample")
        return Sample(
            answer["cpu"],
            answer["loop_cpu"],
            answer["rss_kib"] / 1024,
            answer["gc_cpu"],
            answer["gc_full"],
            answer["at"],
        )

    async def stop(self) -> None:
        """Terminate the process (our bot stops cleanly on SIGTERM) and wait for it."""
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()
