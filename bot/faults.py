"""Telling Discord's answers apart: a passing fault worth retrying, or a refusal that retrying won't change."""

from __future__ import annotations

import aiohttp
import discord

# Discord's JSON error codes that background work meets, and what each means for an admin.
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
THREAD_ALREADY_EXISTS = 160004
AUTOMOD_BLOCKED = (200000, 200001)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: 429, 5xx, network trouble and time-outs."""
    if isinstance(error, discord.HTTPException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | TimeoutError | OSError | discord.ConnectionClosed)


def describe_fault(error: BaseException, where: str) -> str:
    """Say in a phrase what went wrong when the bot tried to post in `where` (a channel mention)."""
    if not isinstance(error, discord.HTTPException):
        return f"I couldn't reach Discord ({type(error).__name__})"
    if error.status == 429:
        return "Discord kept rate-limiting me"
    if error.status >= 500:
        return f"Discord had a server error ({error.status})"
    reasons = {
        UNKNOWN_CHANNEL: "the channel no longer exists; run /prompts-admin schedule to pick another",
        UNKNOWN_GUILD: "the bot is no longer in this server",
        MISSING_ACCESS: f"I can't see {where} any more; give my role View Channel there",
        MISSING_PERMISSIONS: f"Discord says I lack a permission to post in {where}; check my role there",
    }
    if error.code in reasons:
        return reasons[error.code]
    if error.code in AUTOMOD_BLOCKED:
        return f"AutoMod blocked the post in {where}; allow the bot in the AutoMod rule"
    detail = f": {error.text[:120]}" if error.text else ""
    return f"Discord refused the post ({error.status}, code {error.code}{detail})"
