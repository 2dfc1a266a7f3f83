"""Base classes for views and modals whose errors go through the same handler as commands."""

from __future__ import annotations

from typing import Any, TypeVar

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


ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])


class ReportingDynamicItem(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """Base for persistent components: errors in `run` reach the user like command errors.

    discord.py only logs exceptions raised by a DynamicItem's callback, which would leave the member with
    "This interaction failed"; subclasses implement `run` instead of `callback`. The base template never
    matches, so only subclasses (each with its own template) are ever dispatched.
    """

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the item and report any error to the member."""
        try:
            await self.run(interaction)
        except Exception as error:  # every failure must be answered, not just logged
            await report_error(interaction, error, f"component {self.custom_id!r}")

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Handle a click or selection; override in subclasses."""
        raise NotImplementedError
