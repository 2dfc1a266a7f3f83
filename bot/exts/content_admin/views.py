"""The confirmation under an edit's preview: Save and reload, or Cancel; only the uploader may press them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord

from bot.domain.content_edit import StagedEdit
from bot.domain.content_messages import CANCELLED, EXPIRED, saved_text
from bot.errors import UserFacingError
from bot.ui import BaseView

log = logging.getLogger(__name__)

# Writes a staged edit and reloads; returns the backup made (if any) and a summary of the new content.
SaveEdit = Callable[[StagedEdit], Awaitable[tuple[Path | None, str]]]


class ConfirmEdit(BaseView):
    """Confirm or cancel a staged content edit; only the admin who uploaded it can press the buttons."""

    def __init__(self, save: SaveEdit, edit: StagedEdit, author_id: int) -> None:
        super().__init__(timeout=300)
        self.save = save
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
            backup, summary = await self.save(self.edit)
        except Exception:
            # The error handler tells the admin why; the stopped view's buttons must not stay behind, dead.
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(view=None)
            raise
        await interaction.edit_original_response(
            content=saved_text(self.edit.relative, summary, backup=backup is not None), embed=None, view=None
        )
        log.info("Content file %s changed by user %s", self.edit.relative, interaction.user.id)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Drop the edit."""
        self.stop()
        await interaction.response.edit_message(content=CANCELLED, embed=None, view=None)

    async def on_timeout(self) -> None:
        """Say the confirmation expired, so a stale button is never pressed by mistake."""
        if self.message is not None:
            try:
                await self.message.edit(content=EXPIRED, embed=None, view=None)
            except discord.HTTPException:
                log.debug("Could not mark an expired content edit")
