"""Weekly prompts: the queue, suggestions and review, schedules, and the scheduler that posts them."""

from discord.ext.commands.bot import BotBase

from bot.bot import AlignmentBot
from bot.exts.prompts.admin import PromptsAdmin
from bot.exts.prompts.commands import Prompts
from bot.exts.prompts.scheduler import PromptScheduler


async def setup(bot: BotBase) -> None:
    """Add the feature's cogs: /prompts for members, /prompts-admin for admins, sharing one scheduler."""
    assert isinstance(bot, AlignmentBot)  # noqa: S101 - extensions are only loaded by AlignmentBot
    scheduler = PromptScheduler(bot)
    await bot.add_cog(Prompts(bot, scheduler))
    await bot.add_cog(PromptsAdmin(bot, scheduler))
