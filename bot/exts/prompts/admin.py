"""/prompts-admin: the weekly prompts' admin commands, in a top-level group only Manage Server members are shown.

Discord sets who sees a command per top-level command only, so admin work cannot live inside /prompts without
being listed to every member. The group is declared with Manage Server as its default permission and guild-only;
each command also checks Manage Server when it runs, in case a server's admins changed who may use it.
"""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.prompt_texts import ADMIN_GROUP
from bot.exts.prompts.admin_queue import QueueAdmin
from bot.exts.prompts.admin_schedule import ScheduleAdmin
from bot.exts.prompts.scheduler import PromptScheduler


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class PromptsAdmin(QueueAdmin, ScheduleAdmin, commands.GroupCog, group_name=ADMIN_GROUP):
    """Manage weekly discussion prompts (Manage Server)."""

    def __init__(self, bot: AlignmentBot, scheduler: PromptScheduler) -> None:
        self.bot = bot
        self.scheduler = scheduler
