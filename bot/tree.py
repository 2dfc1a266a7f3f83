"""The one CommandTree subclass: every app-command, view and modal error ends up in `report_error`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot import metrics
from bot.domain.text import permission_name
from bot.errors import UserFacingError, error_code

log = logging.getLogger(__name__)


class AccessDenied(app_commands.CheckFailure):
    """A check failure whose message tells the user who may use the command."""


def _permission_names(names: list[str]) -> str:
    return ", ".join(permission_name(name) for name in names)


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """How to answer one kind of error: the types it covers and the sentence the user sees."""

    types: tuple[type[BaseException], ...]
    message: Callable[[Any], str]  # receives an instance of one of `types`
    log_traceback: bool = False


# Checked in order; the first rule whose types match wins. The last rule catches everything.
ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule((UserFacingError,), lambda e: str(e)),
    ErrorRule(
        (app_commands.CommandOnCooldown,),
        lambda e: f"Slow down a little: try again in {e.retry_after:.0f} s.",
    ),
    ErrorRule(
        (app_commands.MissingPermissions,),
        lambda e: f"You need the {_permission_names(e.missing_permissions)} permission to do that.",
    ),
    ErrorRule(
        (app_commands.BotMissingPermissions,),
        lambda e: f"I need the {_permission_names(e.missing_permissions)} permission in this channel to do that.",
    ),
    ErrorRule((app_commands.NoPrivateMessage,), lambda e: "This command only works inside a server."),
    ErrorRule(
        (app_commands.TransformerError,),
        lambda e: f"I couldn't understand {str(e.value)[:100]!r}; please pick one of the suggestions.",
    ),
    ErrorRule((AccessDenied,), lambda e: str(e)),
    ErrorRule((app_commands.CheckFailure,), lambda e: "You don't have access to this command here."),
    ErrorRule(
        (discord.Forbidden,),
        lambda e: "Discord refused me permission to do that here; a server admin may need to check my role.",
        log_traceback=True,
    ),
    ErrorRule(
        (Exception,),
        lambda e: "Something went wrong on my side. It has been logged; please try again later.",
        log_traceback=True,
    ),
)


def unwrap(error: BaseException) -> BaseException:
    """Return the exception a command actually raised, not discord.py's wrapper around it."""
    return error.original if isinstance(error, app_commands.CommandInvokeError) else error


def describe_error(error: BaseException) -> tuple[str, bool]:
    """Return the sentence for `error` and whether its traceback should be logged with an error code."""
    error = unwrap(error)
    rule = next((rule for rule in ERROR_RULES if isinstance(error, rule.types)), ERROR_RULES[-1])
    return rule.message(error), rule.log_traceback


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply privately, as a follow-up when the interaction was already answered or deferred."""
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)


# Discord's answer to a response sent after the interaction's 3 s window (or to one it no longer knows).
UNKNOWN_INTERACTION = 10062


async def report_error(interaction: discord.Interaction, error: BaseException, where: str) -> None:
    """Tell the user what went wrong (ephemerally) and log unexpected errors with a short code."""
    cause = unwrap(error)
    if isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_INTERACTION:
        # Too late to answer at all (the bot was slowed down, say by a stalled disk): nothing can reach the member,
        # who saw "This interaction failed". One line, not a traceback; whatever the command committed stays.
        metrics.interaction_done(interaction, "expired")
        metrics.count_error(cause)
        log.warning(
            "Answered too late in %s: Discord's 3 s to respond had passed (guild=%s channel=%s user=%s)",
            where,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
        )
        return
    message, log_traceback = describe_error(error)
    metrics.interaction_done(interaction, "error" if log_traceback else "user_error")
    if log_traceback:
        metrics.count_error(unwrap(error))
        code = error_code()
        log.error(
            "Error %s in %s (guild=%s channel=%s user=%s)",
            code,
            where,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            exc_info=unwrap(error),
        )
        message = f"{message} (code {code})"
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        # The interaction may have expired; the log line above is all we can do.
        log.warning("Could not tell user %s about an error in %s", interaction.user.id, where)


class AppCommandTree(app_commands.CommandTree[discord.Client]):
    """Answers every app-command error the same way, so no command ever leaves the user without a reply."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Report `error` to the user and the log; the bot keeps running."""
        name = interaction.command.qualified_name if interaction.command else "an unknown command"
        await report_error(interaction, error, f"/{name}")
