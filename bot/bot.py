"""The Bot subclass: holds the dependencies, loads extensions and syncs commands deliberately."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot import metrics
from bot.background import BackgroundLoop
from bot.backups import AutoBackups
from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.domain.search import Library
from bot.domain.shards import ShardScope, describe_shard_ids, identify_delay
from bot.faults import is_transient
from bot.settings import Settings
from bot.tree import AppCommandTree

log = logging.getLogger(__name__)

# How far the bot's clock may be ahead of Discord's when searching a channel for messages sent since a moment.
CLOCK_SKEW = timedelta(minutes=5)

# Every extension the bot loads, one per feature; a structure test checks this matches what is in bot/exts.
EXTENSIONS: tuple[str, ...] = (
    "bot.exts.meta",
    "bot.exts.concepts",
    "bot.exts.content_admin",
    "bot.exts.pdoom",
    "bot.exts.prompts",
    "bot.exts.status",
)


@contextmanager
def discord_endpoints(api_base: str | None, gateway_url: str | None) -> Iterator[None]:
    """Point discord.py's REST base and gateway URL elsewhere (a proxy, or the test fake) while inside.

    discord.py keeps both as class attributes, so they are process-wide; the old values come back on exit.
    """
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def carries_marker(
    message: discord.Message, marker: str, legacy: Callable[[discord.Embed], bool] | None = None
) -> bool:
    """Whether a message has a component whose custom_id is `marker` (or, for older posts, an embed `legacy` likes)."""
    for row in message.components:
        for item in getattr(row, "children", ()):
            if getattr(item, "custom_id", None) == marker:
                return True
    return legacy is not None and any(legacy(embed) for embed in message.embeds)


def command_set_hash(payload: list[dict[str, object]]) -> str:
    """Return a stable hash of the command payloads Discord would receive."""
    canonical = json.dumps(sorted(payload, key=lambda c: str(c.get("name"))), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AlignmentBot(commands.AutoShardedBot):
    """The bot. Dependencies are passed in from `main()`; nothing is read from the environment here.

    Sharded even when small: one process runs SHARD_IDS out of SHARD_COUNT shards, or, with neither set, as many as
    Discord recommends (one below 2,500 servers), all in this process.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        library: Library,
        force_sync: bool = False,
        clock: Clock | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.default(),
            tree_cls=AppCommandTree,
            # Nothing the bot sends may ping anyone unless that one send opts in explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            shard_count=settings.shard_count,
            # None (discord.py's default, though its stubs say list) runs every shard of the count.
            shard_ids=sorted(settings.shard_ids) if settings.shard_ids is not None else None,  # type: ignore[arg-type]
            # Times each interaction's first response for /metrics; read lazily, once `self.clock` is set below.
            http_trace=metrics.ack_trace(lambda: self.clock.now()),
        )
        metrics.watch(self)
        self.settings = settings
        #: The servers whose background work (closing rounds, posting prompts) this process does.
        self.shard_scope: ShardScope = settings.shard_scope
        self.db = db
        self.force_sync = force_sync
        self.clock: Clock = clock or SystemClock()
        self.started_at = self.clock.now()
        #: Automatic backups of the SQLite database, when BACKUP_DIR is set (bot/backups.py); None otherwise.
        self.backups: AutoBackups | None = AutoBackups.from_settings(settings, self.clock)
        # Replaced wholesale by /content reload; cogs read `bot.library` at use time, never keep a copy.
        self.library = library
        # When each shard last identified (monotonic seconds), and Discord's max_concurrency once it is needed.
        self._identified_at: dict[int, float] = {}
        self._max_concurrency: int | None = None
        self._identify_lock = asyncio.Lock()
        self._closing = asyncio.Event()  # set by close(): shards still waiting to identify give up

    async def setup_hook(self) -> None:
        """Load every extension, then sync the command tree if it changed."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        if self.backups is not None:
            self.backups.start()

    async def close(self) -> None:
        """Stop the automatic backups (a backup that has begun finishes), then disconnect from Discord."""
        self._closing.set()
        if self.backups is not None:
            await self.backups.stop()
        await super().close()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait only as long as Discord's session start limit requires before a shard identifies.

        discord.py waits 5 s before every identify but a process's first; Discord allows `max_concurrency` shards
        (those with different ids modulo it) to identify at once, so a process with several shards starts in one
        step instead of one 5 s step per shard, and a reconnecting shard waits only if its key identified recently.
        """
        shard = shard_id or 0
        async with self._identify_lock:  # one at a time, so two reconnecting shards never take the same slot
            if not initial or self._identified_at:
                if self._max_concurrency is None:
                    self._max_concurrency = await self._fetch_max_concurrency()
                delay = identify_delay(shard, self._identified_at, self._max_concurrency, time.monotonic())
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), delay)
            if self._closing.is_set():
                # Stopped while shards were still connecting. discord.py retries a launch that fails with any
                # Exception (with a traceback, 5 s later), so end it the way a cancelled start would end.
                raise asyncio.CancelledError
            self._identified_at[shard] = time.monotonic()

    async def _fetch_max_concurrency(self) -> int:
        """Ask Discord how many shards may identify at once (1, discord.py's assumption, if it cannot say)."""
        try:
            _, _, limit = await self.http.get_bot_gateway()
            return max(int(limit.get("max_concurrency", 1)), 1)
        except (discord.DiscordException, aiohttp.ClientError, OSError, KeyError, TypeError, ValueError):
            log.warning("Could not read the session start limit; identifying one shard per 5 s")
            return 1

    @property
    def library(self) -> Library:
        """The content in use and its search indexes."""
        return self._library

    @library.setter
    def library(self, library: Library) -> None:
        self._library = library
        #: When the content in use was loaded (at start, or by the last /content reload or save), for /status.
        self.library_loaded_at = self.clock.now()

    def background_loops(self) -> list[BackgroundLoop]:
        """Every supervised background loop of this process: the cogs' (closer, scheduler) and automatic backups.

        A cog's loop is one of its attributes, or the `loop` attribute of one (the scheduler's); each is listed once.
        Only instance attributes are read, so no property of anything a cog holds (such as the bot) is run.
        """
        found: dict[int, BackgroundLoop] = {}
        candidates: list[object] = [self.backups.loop if self.backups is not None else None]
        for cog in self.cogs.values():
            for value in vars(cog).values():
                candidates += [value, getattr(value, "__dict__", {}).get("loop")]
        for candidate in candidates:
            if isinstance(candidate, BackgroundLoop):
                found.setdefault(id(candidate), candidate)
        return list(found.values())

    def owns_guild(self, guild_id: int) -> bool:
        """Whether this process looks after a server: always, unless SHARD_IDS leaves the server's shard to another."""
        return self.shard_scope.owns(guild_id)

    async def sync_commands(self) -> bool:
        """Sync to DEV_GUILD_ID, or globally; skip when the command set is unchanged since the last sync.

        Returns whether a sync request was sent. `--sync` (force_sync) always sends one, except in a process without
        shard 0: commands belong to the application, not to a shard, so only shard 0's process syncs them.
        """
        if not self.owns_shard_zero:
            log.info("Not syncing commands: the process that runs shard 0 does")
            return False
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = command_set_hash(payload)
        # Keyed by application too: a new token for another application must sync again.
        key = f"command_sync:{self.application_id}:{guild.id if guild else 'global'}"
        if not self.force_sync and await self.db.state.get_meta(key) == digest:
            log.info("Commands unchanged since the last sync; not syncing (run with --sync to force)")
            return False
        synced = await self.tree.sync(guild=guild)
        await self.db.state.set_meta(key, digest)
        log.info("Synced %d commands %s", len(synced), f"to guild {guild.id}" if guild else "globally")
        return True

    async def find_own_message(
        self, channel_id: int, marker: str, since: datetime, legacy: Callable[[discord.Embed], bool] | None = None
    ) -> discord.Message | None:
        """Return our message in a channel that carries `marker`, sent since `since` (None if absent or unreadable).

        Used to recover after a crash between posting something and recording that it was posted. The marker is a
        component's custom_id, never visible wording, so rewording a message in a release
        cannot break the recovery of older posts; `legacy` recognises posts made before markers existed. Only
        messages sent after the claim (less a margin for clock skew) are read, however many that is. A passing
        failure (429, 5xx) is raised rather than taken for "not there", which would post a second copy.
        """
        after = discord.Object(discord.utils.time_snowflake(since - CLOCK_SKEW))
        try:
            async for message in self.get_partial_messageable(channel_id).history(
                limit=None, after=after, oldest_first=True
            ):
                if self.user and message.author.id == self.user.id and carries_marker(message, marker, legacy):
                    return message
        except discord.HTTPException as error:
            if is_transient(error):
                raise
            log.info("Could not read channel %s to look for an earlier post", channel_id)
        return None

    @property
    def owns_shard_zero(self) -> bool:
        """Whether this process runs shard 0 (which also carries direct messages)."""
        return self.shard_scope.ids is None or 0 in self.shard_scope.ids

    @property
    def own_shards(self) -> str | None:
        """Name this process's shards ("0-1 of 4") when other processes run the rest; None when it runs them all."""
        scope = self.shard_scope
        return None if scope.ids is None else f"{describe_shard_ids(scope.ids)} of {scope.count}"

    def uptime(self) -> float:
        """Return seconds since the bot object was created."""
        return (self.clock.now() - self.started_at).total_seconds()

    async def on_ready(self) -> None:
        """Log who we are, how many servers we serve and on which shards (all of them are ready by now)."""
        log.info(
            "Ready as %s (id=%s) in %d servers on shards %s of %s",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
            describe_shard_ids(frozenset(self.shards)),
            self.shard_count,
        )

    async def on_message(self, message: discord.Message) -> None:
        """Ignore messages: this bot has slash commands only, and no prefix commands to process."""
