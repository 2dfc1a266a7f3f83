"""Base classes for views and modals whose errors go through the same handler as commands."""

from __future__ import annotations

from typing import Any

import discord

from bot.tree import report_error


class BaseView(discord.ui.View):
    """A view whose callback errors are reported to the user like command errors."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        """Report the error ephemerally and log unexpected ones with a code."""
        await report_error(interaction, error, f"component {getattr(item, 'custom_id', item)!r}")


class BaseModal(discord.ui.Modal):
    """A modal whose submit errors are reported to the user like command errors."""

    # discord.ui.Modal itself narrows View.on_error to these two arguments.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        """Report the error ephemerally and log unexpected ones with a code."""
        await report_error(interaction, error, f"modal {self.custom_id!r}")
