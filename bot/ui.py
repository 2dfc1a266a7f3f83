"""Shared UI pieces for the cogs.

Views, modals and persistent components whose errors go through the command error handler, and the lookups
that components and autocomplete callbacks need from the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics
from bot.bot import AlignmentBot
from bot.domain.search import Library
from bot.domain.text import truncate
from bot.errors import UserFacingError
from bot.tree import report_error

CogT = TypeVar("CogT", bound=commands.Cog)


def cog_for(interaction: discord.Interaction[Any], cog_type: type[CogT], unavailable: str) -> CogT:
    """Return the loaded cog of `cog_type`, or tell the member (with `unavailable`) that the feature is off."""
    client = interaction.client
    cog = client.get_cog(cog_type.__cog_name__) if isinstance(client, AlignmentBot) else None
    if not isinstance(cog, cog_type):
        raise UserFacingError(unavailable)
    return cog


def library_of(interaction: discord.Interaction[Any]) -> Library:
    """Return the bot's current content library."""
    client = interaction.client
    assert isinstance(client, AlignmentBot)  # noqa: S101 - components and commands are only registered by AlignmentBot
    return client.library


async def concept_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Suggest concepts by title, alias or id, forgiving typos; at most 25."""
    matches = library_of(interaction).matcher.matches(current[:100])
    return [app_commands.Choice(name=truncate(m.title, 100), value=m.concept_id) for m in matches]


def persistent_view(*items: discord.ui.DynamicItem[Any]) -> discord.ui.View:
    """Return a view of persistent components only, stopped so that sending it only serialises it.

    Our components are DynamicItems, registered once with `add_dynamic_items` and dispatched by custom_id, so the
    view object is never needed after it is sent. Left running, discord.py stores every sent view; an ephemeral
    reply's view also gets a 15-minute timeout (discord.py turns `timeout=None` into that), so each /concept
    lookup would keep a View and a timer task alive for 15 minutes. discord.py skips storing a finished view.
    """
    view = discord.ui.View(timeout=None)
    for item in items:
        # A plain Button or Select would need the stored view to be dispatched: it would silently never work.
        if not isinstance(item, discord.ui.DynamicItem):
            raise TypeError(f"persistent_view takes DynamicItems only, not {type(item).__name__}")
        view.add_item(item)
    view.stop()
    return view


Callback = Callable[[discord.Interaction[Any]], Coroutine[Any, Any, None]]


def counted(callback: Callback) -> Callback:
    """Wrap a view item's or modal's callback so that finishing without an error counts as an `ok` interaction.

    Errors are counted by `report_error`, which `on_error` calls.
    """

    async def run(interaction: discord.Interaction[Any]) -> None:
        await callback(interaction)
        metrics.interaction_done(interaction, "ok")

    return run


class BaseView(discord.ui.View):
    """A view whose callback errors are reported to the user like command errors."""

    def __init__(self, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        for item in self.children:  # the decorated buttons and selects, bound to this view
            item.callback = counted(item.callback)  # type: ignore[method-assign,assignment]

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        """Report the error ephemerally and log unexpected ones with a code."""
        await report_error(interaction, error, f"component {getattr(item, 'custom_id', item)!r}")


class BaseModal(discord.ui.Modal):
    """A modal whose submit errors are reported to the user like command errors."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.on_submit = counted(self.on_submit)  # type: ignore[method-assign]

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
            metrics.interaction_done(interaction, "ok")
        except Exception as error:  # every failure must be answered, not just logged
            await report_error(interaction, error, f"component {self.custom_id!r}")

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Handle a click or selection; override in subclasses."""
        raise NotImplementedError
