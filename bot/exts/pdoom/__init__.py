"""P(Doom) polls: rounds, votes, results, history, and the closer that finishes rounds on time."""

from discord.ext.commands.bot import BotBase

from bot.bot import AlignmentBot
from bot.exts.pdoom.admin import PDoomAdmin
from bot.exts.pdoom.closer import RoundCloser
from bot.exts.pdoom.commands import PDoom
from bot.exts.pdoom.rounds import PollRounds


async def setup(bot: BotBase) -> None:
    """Add the feature's cogs, which share one `PollRounds`."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    rounds = PollRounds(bot)
    closer = RoundCloser(bot, rounds)
    # Cogs are removed in the order they were added: the closer first, so a close that has begun finishes (and is
    # recorded) before the pending poll-message refreshes are cancelled.
    for cog in (closer, rounds, PDoom(bot, rounds), PDoomAdmin(bot, rounds, closer)):
        await bot.add_cog(cog)
