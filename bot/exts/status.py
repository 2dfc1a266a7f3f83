"""/status (Manage Server): the bot's state as one private card, for when members say "the prompt didn't come".

A top-level command of its own, because Discord hides commands from members only per top-level command; the
run-time permission check stays as a second line, like the admin groups'.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from pathlib import Path
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

import bot as package
from bot.bot import AlignmentBot
from bot.db.backup import BackupFile, latest_backup
from bot.domain.search import Library
from bot.domain.status import BackupState, JobState, StatusReport, content_version, status_card
from bot.render import card_embed
from bot.settings import DatabaseTarget

log = logging.getLogger(__name__)

SIZE_TIMEOUT = 5.0  # seconds the size query may take; the card shows "unknown" rather than waiting longer


def database_name(target: DatabaseTarget) -> str:
    """Name the database without anything secret: the SQLite file's name, or PostgreSQL's database and host."""
    if target.path is not None:
        return target.path.name
    parts = urlsplit(target.url or "")
    name = parts.path.lstrip("/") or "default database"
    return f"{name} on {parts.hostname}" if parts.hostname else name


def newest_backup_in(directory: Path) -> BackupFile | None:
    """Return the newest backup in `directory`, or None, also when it can't be read (the backups report that)."""
    try:
        return latest_backup(directory)
    except OSError:
        return None


class Status(commands.Cog):
    """The admins' view of the running bot."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        # The version of the last library asked about, computed once per library; a weak reference, so the
        # library a reload replaced is freed.
        self._content_version: tuple[weakref.ref[Library], str] | None = None

    @app_commands.command(name="status")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        """Show the bot's state: database, backups, content, this server's round and prompts, jobs (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        await interaction.response.defer(ephemeral=True, thinking=True)
        card = status_card(await self.report(interaction.guild_id))
        await interaction.followup.send(embed=card_embed(card), ephemeral=True)

    async def report(self, guild_id: int) -> StatusReport:
        """Gather everything the card shows about the bot and one server, at one moment."""
        bot = self.bot
        target = bot.settings.database
        poll = await bot.db.polls.open_round_for_guild(guild_id)
        return StatusReport(
            now=bot.clock.now(),
            version=package.__version__,
            uptime_seconds=bot.uptime(),
            gateway_latency=bot.latency,
            backend=target.backend,
            database_name=database_name(target),
            database_size=await self._database_size(),
            backup=await self._backup_state(),
            content_version=await self._version_of(bot.library),
            content_loaded_at=bot.library_loaded_at,
            content_stats=bot.library.store.stats(),
            open_round=poll,
            respondents=await bot.db.polls.respondent_count(poll.id) if poll else 0,
            schedule=await bot.db.schedules.get_schedule(guild_id),
            jobs=[
                JobState(
                    name=loop.name,
                    running=loop.running,
                    passes=loop.passes,
                    failed_passes=loop.failed_passes,
                    failures_in_a_row=loop.failures,
                    last_error=loop.last_error,
                    last_failed_at=loop.last_failed_at,
                )
                for loop in bot.background_loops()
            ],
        )

    async def _database_size(self) -> int | None:
        """Return the database's size, or None if it does not answer in time (the rest of the card still shows)."""
        try:
            async with asyncio.timeout(SIZE_TIMEOUT):
                return await self.bot.db.state.database_size()
        except Exception:
            log.warning("/status could not read the database's size", exc_info=True)
            return None

    async def _backup_state(self) -> BackupState:
        """Return the newest backup (in BACKUP_DIR, or the last automatic one) and the last automatic failure."""
        backups = self.bot.backups
        directory = self.bot.settings.backup_dir
        candidates = [backups.last_backup if backups is not None else None]
        if directory is not None and self.bot.settings.database.backend == "sqlite":
            # `db backup` files too, and any taken by another process on the same folder.
            candidates.append(await asyncio.to_thread(newest_backup_in, directory))
        found = [c for c in candidates if c is not None]
        newest = max(found, key=lambda backup: backup.taken_at) if found else None
        return BackupState(
            directory=str(directory) if directory is not None else None,
            automatic=backups is not None,
            last_name=newest.path.name if newest is not None else None,
            last_taken_at=newest.taken_at if newest is not None else None,
            last_size=newest.size_bytes if newest is not None else None,
            last_error=backups.last_error if backups is not None else None,
            last_error_at=backups.last_error_at if backups is not None else None,
        )

    async def _version_of(self, library: Library) -> str:
        """Return the content version of `library`, hashing it (off the event loop) only when it is new."""
        cached = self._content_version
        if cached is None or cached[0]() is not library:
            cached = (weakref.ref(library), await asyncio.to_thread(content_version, library.store))
            self._content_version = cached
        return cached[1]


async def setup(bot: commands.bot.BotBase) -> None:
    """Add the Status cog."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(Status(bot))
