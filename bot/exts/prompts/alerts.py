"""Telling a server's admins about its weekly prompts: in the mod channel, or else the prompt channel."""

from __future__ import annotations

import logging

import discord

from bot.bot import AlignmentBot
from bot.domain.prompt_outcomes import alert_text
from bot.domain.prompts import Schedule

log = logging.getLogger(__name__)


async def alert_admins(bot: AlignmentBot, schedule: Schedule, text: str) -> None:
    """Send `text` to the server's mod channel, falling back to the prompt channel; log it if neither takes it."""
    for channel_id in dict.fromkeys((schedule.mod_channel_id, schedule.channel_id)):
        channel = bot.get_channel(channel_id) if channel_id else None
        if isinstance(channel, discord.TextChannel):
            try:
                await channel.send(alert_text(text), allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException:
                continue
    log.warning("Could not alert guild %s: %s", schedule.guild_id, text)
