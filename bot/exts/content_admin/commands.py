"""/content reload|get|put: change the shared content from Discord, never serving a broken edit.

Content is shared by every server the bot is in, so these commands are for the application's owners and
the users listed in CONTENT_ADMINS, not for any server's admins.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.card import EMBED_TITLE_LIMIT
from bot.domain.content import ContentInvalid, ContentStore
from bot.domain.content_edit import (
    StagedEdit,
    apply_edit,
    check_upload_size,
    content_file_names,
    decode_upload,
    format_errors,
    resolve_target,
    stage_edit,
)
from bot.domain.content_loader import load_content
from bot.domain.search import AUTOCOMPLETE_LIMIT, Library
from bot.domain.text import truncate
from bot.errors import UserFacingError
from bot.render import EMBED_COLOUR
from bot.tree import AccessDenied
from bot.ui import BaseView

log = logging.getLogger(__name__)

ERROR_LIST_LIMIT = 3800  # leaves room in the 4096-character embed description


def describe_change(before: ContentStore, after: ContentStore) -> str:
    """Summarise how the counts changed, e.g. `34 concepts (+1), 70 readings`."""
    old, new = before.stats(), after.stats()
    parts = []
    for name, count in new.items():
        delta = count - old.get(name, 0)
        parts.append(f"{count} {name}" + (f" ({delta:+d})" if delta else ""))
    return ", ".join(parts)


def errors_embed(title: str, error: ContentInvalid) -> discord.Embed:
    """List content errors in an embed, truncated sensibly (titles can hold an uploaded file's name)."""
    return discord.Embed(
        title=truncate(title, EMBED_TITLE_LIMIT),
        description=format_errors(error.errors, ERROR_LIST_LIMIT),
        colour=discord.Colour.red(),
    ).set_footer(text=f"{len(error.errors)} error(s). Nothing was changed; members still see the last good content.")


class ConfirmEdit(BaseView):
    """Confirm or cancel a staged content edit; only the admin who uploaded it can press the buttons."""

    def __init__(self, cog: ContentAdmin, edit: StagedEdit, author_id: int) -> None:
        super().__init__(timeout=300)
        self.cog = cog
        self.edit = edit
        self.author_id = author_id
        self.message: discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Allow only the uploader."""
        if interaction.user.id != self.author_id:
            raise UserFacingError("Only the admin who uploaded this file can confirm it.")
        return True

    @discord.ui.button(label="Save and reload", style=discord.ButtonStyle.success)
    async def confirm(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Write the file and reload the content."""
        self.stop()
        await interaction.response.defer()
        try:
            backup, summary = await self.cog.save(self.edit)
        except Exception:
            # The error handler tells the admin why; the stopped view's buttons must not stay behind, dead.
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(view=None)
            raise
        kept = f" The previous version is kept as `{self.edit.relative}.bak`." if backup else ""
        await interaction.edit_original_response(
            content=f"Saved `{self.edit.relative}` and reloaded: {summary}.{kept}", embed=None, view=None
        )
        log.info("Content file %s changed by user %s", self.edit.relative, interaction.user.id)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Drop the edit."""
        self.stop()
        await interaction.response.edit_message(content="Cancelled; nothing was changed.", embed=None, view=None)

    async def on_timeout(self) -> None:
        """Say the confirmation expired, so a stale button is never pressed by mistake."""
        if self.message is not None:
            try:
                await self.message.edit(content="This edit expired; upload it again.", embed=None, view=None)
            except discord.HTTPException:
                log.debug("Could not mark an expired content edit")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ContentAdmin(commands.GroupCog, group_name="content"):
    """Edit the shared content (bot owners and CONTENT_ADMINS only)."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        # One reload or save at a time: a save's hash check, write and reload happen as one step, so of two admins
        # confirming edits of the same file at once, the second finds the file changed and is refused.
        self._lock = asyncio.Lock()

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
            await asyncio.to_thread(stage_edit, self.bot.settings.content_dir, edit.relative, edit.new_text)
            backup = await asyncio.to_thread(apply_edit, edit)
            return backup, await self._reload_locked()

    async def _reload_locked(self) -> str:
        """Reload with `_lock` held (asyncio locks are not re-entrant)."""
        store = await asyncio.to_thread(load_content, self.bot.settings.content_dir)
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
            await interaction.followup.send(embed=errors_embed("The content has errors", error), ephemeral=True)
            return
        await interaction.followup.send(f"Reloaded: {summary}.", ephemeral=True)

    @app_commands.command(name="get")
    @app_commands.describe(file="A concept id or content file name")
    @app_commands.autocomplete(file=file_autocomplete)
    async def get(self, interaction: discord.Interaction, file: app_commands.Range[str, 1, 100]) -> None:
        """Download a content file to edit it."""
        relative, path = resolve_target(self.bot.settings.content_dir, file.removeprefix("concepts/"))
        if not path.exists():
            raise UserFacingError(f"There is no {relative}; pick a file from the suggestions.")
        data = await asyncio.to_thread(path.read_bytes)
        await interaction.response.send_message(
            f"Here is `{relative}`. Edit it and send it back with `/content put`.",
            file=discord.File(io.BytesIO(data), filename=path.name),
            ephemeral=True,
        )

    @app_commands.command(name="put")
    @app_commands.describe(file="The edited .yaml file (named like the concept id, or readings.yaml, ...)")
    async def put(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        """Upload an edited content file; see what changes, then confirm."""
        # Discord declares the size and name; refuse what can't be a content file before downloading anything.
        check_upload_size(file.size)
        resolve_target(self.bot.settings.content_dir, file.filename)
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = decode_upload(await file.read())
        try:
            edit = await asyncio.to_thread(stage_edit, self.bot.settings.content_dir, file.filename, text)
        except ContentInvalid as error:
            await interaction.followup.send(
                embed=errors_embed(f"{file.filename} would break the content", error), ephemeral=True
            )
            return
        view = ConfirmEdit(self, edit, interaction.user.id)
        change = "New file" if edit.old_text is None else "Change to"
        embed = discord.Embed(
            title=truncate(f"{change} {edit.relative}", EMBED_TITLE_LIMIT),
            description=f"```diff\n{edit.diff()}\n```",
            colour=EMBED_COLOUR,
        ).set_footer(text=f"After saving: {describe_change(self.bot.library.store, edit.store)}")
        view.message = await interaction.followup.send(embed=embed, view=view, ephemeral=True, wait=True)
