"""End-to-end fixtures: the real bot, a real SQLite file, and the fake Discord over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.bot import AlignmentBot
from bot.db import Database
from bot.domain.content_loader import load_content
from bot.domain.search import Library
from bot.settings import Settings
from tests.clock import FakeClock
from tests.conftest import create_database, drop_database, new_database_name
from tests.fakediscord import Channel, FakeDiscord, Guild, Member, Permissions, connected_client, running_fake

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"


@dataclass
class Server:
    """The small world most tests act in: one guild, an admin, a member and a #general channel."""

    fake: FakeDiscord
    guild: Guild
    admin: Member
    member: Member
    general: Channel


@dataclass
class Community:
    """Another server for tests with several: its admin, a #prompts channel and a #mods channel."""

    fake: FakeDiscord
    guild: Guild
    admin: Member
    prompts: Channel
    mods: Channel

    @property
    def as_server(self) -> Server:
        """View it as a `Server` (the admin doubles as the member), for helpers that take one."""
        return Server(fake=self.fake, guild=self.guild, admin=self.admin, member=self.admin, general=self.prompts)


def community(fake: FakeDiscord, name: str) -> Community:
    """Add a server with an admin (Manage Server), a #prompts channel and a #mods channel."""
    guild = fake.add_guild(name)
    admin = guild.add_member(f"{name}-admin", permissions=Permissions.MANAGE_GUILD)
    return Community(fake, guild, admin, guild.add_text_channel("prompts"), guild.add_text_channel("mods"))


class BotRunner:
    """Starts, stops and restarts the real bot against the fake, keeping its database file between runs.

    A restart builds a new bot and a new database connection on the same file, like a process restart.
    """

    def __init__(self, fake: FakeDiscord, tmp_path: Path, content_dir: Path = CONTENT) -> None:
        self.fake = fake
        self.database_path = tmp_path / "bot.sqlite3"
        self.content_dir = content_dir
        self.settings_overrides: dict[str, Any] = {}
        #: Called with each new bot before it connects, e.g. to add a test-only command.
        self.prepare: Callable[[AlignmentBot], None] | None = None
        #: The bot's clock; tests move it forward instead of sleeping. Discord's ids follow it too.
        self.clock = FakeClock()
        fake.world.next_id.clock = lambda: self.clock.now().timestamp()
        self.bot: AlignmentBot | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        #: Set by the `runner` fixture when E2E_BACKEND=postgresql: the bot's database is there instead.
        self.postgres_url: str | None = None

    def settings(self) -> Settings:
        """Build the settings a real deployment would have, pointed at the fake."""
        return Settings(
            discord_token=self.fake.token,
            database_path=self.database_path,
            content_dir=self.content_dir,
            discord_api_base=self.fake.api_base,
            discord_gateway_url=self.fake.gateway_url,
            **self.settings_overrides,
        )

    async def start(self, *, force_sync: bool = False) -> AlignmentBot:
        """Open the database, load content, connect the bot and wait until it is ready."""
        settings = self.settings()
        stack = contextlib.AsyncExitStack()
        db = await stack.enter_async_context(await Database.open(self.postgres_url or settings.database_path))
        bot = AlignmentBot(
            settings=settings,
            db=db,
            library=Library.build(load_content(settings.content_dir)),
            force_sync=force_sync,
            clock=self.clock,
            guild_ready_timeout=0.05,
        )
        if self.prepare is not None:
            self.prepare(bot)
        await stack.enter_async_context(connected_client(self.fake, bot))
        self.bot, self._stack = bot, stack
        return bot

    async def stop(self) -> None:
        """Close the bot and its database."""
        if self._stack is not None:
            await self._stack.aclose()
        self.bot, self._stack = None, None

    async def restart(self, *, force_sync: bool = False) -> AlignmentBot:
        """Stop and start again on the same database file."""
        await self.stop()
        return await self.start(force_sync=force_sync)


class LockedOnce:
    """Stands in for a database query that fails once with "database is locked", then answers normally."""

    def __init__(self, real: Callable[..., Awaitable[Any]]) -> None:
        self.real = real
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Fail the first call; pass the others (and their arguments) to the real query."""
        self.calls += 1
        if self.calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return await self.real(*args, **kwargs)

    async def called(self, times: int = 1) -> bool:
        """Whether the query was called at least `times` times (for `eventually`)."""
        return self.calls >= times


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 5.0) -> T:
    """Wait until the bot's background work makes `check()` truthy (database state has no event to wait on)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{check} stayed falsy for {timeout} s")
        await asyncio.sleep(0.01)
    return result


@pytest.fixture(autouse=True)
def token_never_logged(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After each test with a fake Discord, check that no captured log record shows the fake's bot token."""
    if "fake" not in request.fixturenames:
        yield
        return
    token = request.getfixturevalue("fake").token  # now, so that the fake is torn down after this check
    yield
    formatter = logging.Formatter()
    for record in caplog.records:
        text = record.getMessage() + (formatter.formatException(record.exc_info) if record.exc_info else "")
        assert token not in text, f"the bot token was logged by {record.name}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Return a running fake Discord."""
    async with running_fake() as fake:
        yield fake


@pytest.fixture
def server(fake: FakeDiscord) -> Server:
    """Populate the fake with a guild, an admin (Manage Server), a member and #general."""
    guild = fake.add_guild("Alignment Reading Group")
    return Server(
        fake=fake,
        guild=guild,
        admin=guild.add_member("alice", permissions=Permissions.MANAGE_GUILD),
        member=guild.add_member("bob"),
        general=guild.add_text_channel("general"),
    )


@pytest.fixture
async def runner(fake: FakeDiscord, server: Server, tmp_path: Path) -> AsyncIterator[BotRunner]:
    """Return a bot runner (not started) that is stopped after the test.

    With E2E_BACKEND=postgresql (and TEST_DATABASE_URL), its database is a new PostgreSQL database instead of a
    SQLite file; tests that open the SQLite file themselves do not apply then.
    """
    bot_runner = BotRunner(fake, tmp_path)
    name = None
    if os.environ.get("E2E_BACKEND") == "postgresql":
        name = new_database_name()
        bot_runner.postgres_url = await create_database(name)
    yield bot_runner
    await bot_runner.stop()
    if name is not None:
        await drop_database(name)


@pytest.fixture
async def bot(runner: BotRunner) -> AlignmentBot:
    """Return the bot, started and ready."""
    return await runner.start()


@pytest.fixture
def content_dir(tmp_path: Path, runner: BotRunner, fake: FakeDiscord, server: Server) -> Path:
    """Give the bot its own copy of the content, and make the admin the application's owner."""
    directory = tmp_path / "content"
    shutil.copytree(CONTENT, directory)
    runner.content_dir = directory
    fake.application_owner = server.admin
    return directory
