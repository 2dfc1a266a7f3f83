"""Weekly prompts: the queue, suggestions and review, schedules, and the scheduler that posts them."""

from discord.ext.commands import Bot

from bot.bot import AlignmentBot
from bot.exts.prompts.commands import Prompts


async def setup(bot: Bot) -> None:
    """Add the feature's cogs."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(Prompts(bot))
