"""P(Doom) polls: rounds, votes, results, history, and the closer that finishes rounds on time."""

from discord.ext.commands import Bot

from bot.bot import AlignmentBot
from bot.exts.pdoom.commands import PDoom


async def setup(bot: Bot) -> None:
    """Add the feature's cogs."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(PDoom(bot))
