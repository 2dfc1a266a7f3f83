"""Concepts: /concept, /concepts, /reading, /tour and /search, with Share buttons."""

from discord.ext.commands.bot import BotBase

from bot.bot import AlignmentBot
from bot.exts.concepts.commands import Concepts
from bot.exts.concepts.sharing import Sharing


async def setup(bot: BotBase) -> None:
    """Add the feature's cogs."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    await bot.add_cog(Sharing(bot))
    await bot.add_cog(Concepts(bot))
