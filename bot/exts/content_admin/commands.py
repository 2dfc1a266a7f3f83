"""/content reload|get|put: change the shared content from Discord, never serving a broken edit.

Content is shared by every server the bot is in, so these commands are for the application's owners and
the users listed in CONTENT_ADMINS, not for any server's admins.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics
from bot.bot import AlignmentBot
from bot.domain.content import ContentInvalid
from bot.domain.content_edit import (
    StagedEdit,
    apply_edit,
    check_upload_size,
    content_file_names,
    decode_upload,
    resolve_target,
    stage_edit,
)
from bot.domain.content_folder import ContentFolderReadOnly, edit_folder, probe_writable
from bot.domain.content_loader import load_content
from bot.domain.content_messages import (
    describe_change,
    edit_preview_card,
    errors_card,
    file_sent_text,
    no_such_file_text,
    reloaded_text,
    upload_errors_card,
)
from bot.domain.search import AUTOCOMPLETE_LIMIT, Library
from bot.errors import UserFacingError
from bot.exts.content_admin.views import ConfirmEdit
from bot.render import card_embed
from bot.tree import AccessDenied

log = logging.getLogger(__name__)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ContentAdmin(commands.GroupCog, group_name="content"):
    """Edit the shared content (bot owners and CONTENT_ADMINS only)."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        # One reload or save at a time: a save's hash check, write and reload happen as one step, so of two admins
        # confirming edits of the same file at once, the second finds the file changed and is refused.
        self._lock = asyncio.Lock()
        #: Why a folder cannot be written (None: it can); replaceable so a test can simulate a read-only folder.
        self.probe_writable: Callable[[Path], str | None] = probe_writable

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Let only the application's owners and CONTENT_ADMINS through."""
        user = interaction.user
        if user.id in self.bot.settings.content_admins or await self.bot.is_owner(user):
            return True
        raise AccessDenied(
            "Only the bot's owners and the content admins can change the shared content, "
            "because it is the same in every server."
        )

    async def reload(self) -> str:
        """Re-read the folder and swap the library if it validates; raise ContentInvalid otherwise."""
        async with self._lock:
            return await self._reload_locked()

    async def save(self, edit: StagedEdit) -> tuple[Path | None, str]:
        """Write a staged edit unless its file changed since it was staged, then reload; return the backup and summary.

        Raises EditRejected when the file changed (another admin saved first), and ContentInvalid, before
        writing anything, when the folder around it changed since the upload so that the edit no longer fits.
        """
        async with self._lock:
            await self.check_writable(edit.path)  # again: the folder may have been made read-only since the preview
            await asyncio.to_thread(stage_edit, self.bot.settings.content_dir, edit.relative, edit.new_text)
            backup = await asyncio.to_thread(apply_edit, edit)
            return backup, await self._reload_locked()

    async def check_writable(self, target: Path) -> None:
        """Refuse an edit of `target` with one sentence when its folder cannot be written here (read-only, baked in)."""
        content_dir = self.bot.settings.content_dir
        reason = await asyncio.to_thread(self.probe_writable, edit_folder(content_dir, target))
        if reason is not None:
            log.warning("Content edit refused: the content folder %s can't be written (%s)", content_dir, reason)
            raise ContentFolderReadOnly(content_dir, reason)

    async def _reload_locked(self) -> str:
        """Reload with `_lock` held (asyncio locks are not re-entrant)."""
        store = await metrics.counted_reload(asyncio.to_thread(load_content, self.bot.settings.content_dir))
        library = await asyncio.to_thread(Library.build, store)
        before, self.bot.library = self.bot.library, library
        log.info("Content reloaded: %s", store.stats())
        return describe_change(before.store, store)

    async def file_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggest content files whose name contains what was typed."""
        needle = current.casefold()
        names = [n for n in content_file_names(self.bot.library.store) if needle in n.casefold()]
        return [app_commands.Choice(name=n, value=n) for n in names[:AUTOCOMPLETE_LIMIT]]

    @app_commands.command(name="reload")
    async def reload_command(self, interaction: discord.Interaction) -> None:
        """Re-read the content folder; keep the old content if the new one has errors."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            summary = await self.reload()
        except ContentInvalid as error:
            await interaction.followup.send(
                embed=card_embed(errors_card("The content has errors", error.errors)), ephemeral=True
            )
            return
        await interaction.followup.send(reloaded_text(summary), ephemeral=True)

    @app_commands.command(name="get")
    @app_commands.describe(file="A concept id or content file name")
    @app_commands.autocomplete(file=file_autocomplete)
    async def get(self, interaction: discord.Interaction, file: app_commands.Range[str, 1, 100]) -> None:
        """Download a content file to edit it."""
        relative, path = resolve_target(self.bot.settings.content_dir, file.removeprefix("concepts/"))
        if not path.exists():
            raise UserFacingError(no_such_file_text(relative))
        data = await asyncio.to_thread(path.read_bytes)
        await interaction.response.send_message(
            file_sent_text(relative),
            file=discord.File(io.BytesIO(data), filename=path.name),
            ephemeral=True,
        )

    @app_commands.command(name="put")
    @app_commands.describe(file="The edited .yaml file (named like the concept id, or readings.yaml, ...)")
    async def put(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        """Upload an edited content file; see what changes, then confirm."""
        # Discord declares the size and name; refuse what can't be a content file before downloading anything.
        check_upload_size(file.size)
        _, target = resolve_target(self.bot.settings.content_dir, file.filename)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.check_writable(target)  # before the preview, so no admin reviews an edit that cannot be saved
        text = decode_upload(await file.read())
        try:
            edit = await asyncio.to_thread(stage_edit, self.bot.settings.content_dir, file.filename, text)
        except ContentInvalid as error:
            await interaction.followup.send(
                embed=card_embed(upload_errors_card(file.filename, error.errors)), ephemeral=True
            )
            return
        view = ConfirmEdit(self.save, edit, interaction.user.id)
        embed = card_embed(edit_preview_card(edit, self.bot.library.store))
        view.message = await interaction.followup.send(embed=embed, view=view, ephemeral=True, wait=True)
