"""Content admin: /content reload|get|put for the bot's owners and content admins."""

from discord.ext.commands.bot import BotBase

from bot.bot import AlignmentBot
from bot.exts.content_admin.commands import ContentAdmin


async def setup(bot: BotBase) -> None:
    """Add the feature's cogs."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(ContentAdmin(bot))
