"""/prompts-admin's schedule commands: schedule, status, pause, resume, skip and post-now (Manage Server).

A part of the PromptsAdmin cog (admin.py), kept apart from the queue commands so each module has one subject.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.prompt_cards import status_card
from bot.domain.prompt_errors import CannotPostThere, NoSchedule
from bot.domain.prompt_texts import PAUSED, post_now_result, resumed, schedule_saved, skipping
from bot.domain.prompts import Schedule
from bot.domain.schedule import WEEKDAYS, Occurrence, load_zone, next_occurrence, parse_local_time, zone_suggestions
from bot.exts.prompts.posting import missing_permissions
from bot.exts.prompts.scheduler import PromptScheduler
from bot.render import card_embed

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(WEEKDAYS)]


async def timezone_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Suggest IANA time zones."""
    return [app_commands.Choice(name=z, value=z) for z in zone_suggestions(current)]


class ScheduleAdmin(commands.Cog):
    """The schedule half of /prompts-admin; only ever mixed into PromptsAdmin."""

    bot: AlignmentBot
    scheduler: PromptScheduler

    async def _schedule_or_error(self, guild_id: int | None) -> Schedule:
        schedule = await self.bot.db.schedules.get_schedule(guild_id or 0)
        if schedule is None:
            raise NoSchedule
        return schedule

    async def _set_state(
        self, interaction: discord.Interaction, *, upcoming: Occurrence | None = None, **flags: bool
    ) -> Schedule:
        await self._schedule_or_error(interaction.guild_id)
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        # Only the named columns change, so a post being processed right now is never overwritten.
        updated = await self.bot.db.schedules.update_schedule_state(interaction.guild_id, upcoming=upcoming, **flags)
        assert updated is not None  # noqa: S101 - it existed a moment ago
        self.scheduler.wake()
        return updated

    @app_commands.command(name="schedule")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Where prompts are posted (a text or forum channel)",
        weekday="Day of the week",
        time="Local time, like 19:00 or 7pm",
        timezone="IANA time zone, like Europe/London",
        ping_role="A role to mention with each prompt (the only mention the post makes)",
        thread="Open a discussion thread on each prompt (forum channels always get a post)",
        mod_channel="Where suggestions and warnings go (default: the prompt channel)",
        grace_hours="After downtime, post late if the post is at most this many hours overdue (default 12)",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def schedule(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.ForumChannel,
        weekday: app_commands.Choice[int],
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64],
        ping_role: discord.Role | None = None,
        thread: bool = True,
        mod_channel: discord.TextChannel | None = None,
        grace_hours: app_commands.Range[int, 0, 168] = 12,
    ) -> None:
        """Set when and where this server's weekly prompt is posted (Manage Server)."""
        assert interaction.guild is not None  # noqa: S101 - guild-only
        await interaction.response.defer(ephemeral=True, thinking=True)
        zone = load_zone(timezone)
        at = parse_local_time(time)
        missing = missing_permissions(channel, interaction.guild.me, thread)
        if missing:
            raise CannotPostThere(missing, channel.mention)
        upcoming = next_occurrence(self.bot.clock.now(), weekday.value, at, zone)
        previous = await self.bot.db.schedules.get_schedule(interaction.guild.id)
        schedule = Schedule(
            guild_id=interaction.guild.id,
            channel_id=channel.id,
            weekday=weekday.value,
            local_time=at,
            timezone=str(zone),
            ping_role_id=ping_role.id if ping_role else None,
            open_thread=thread,
            mod_channel_id=mod_channel.id if mod_channel else None,
            paused=False,
            skip_next=False,
            grace_hours=grace_hours,
            next_due_at=upcoming.due,
            next_local_date=upcoming.local_date.isoformat(),
            last_outcome=previous.last_outcome if previous else None,
        )
        # No lock: a post in progress for the old schedule only moves it on if it still names the same week.
        await self.bot.db.schedules.save_schedule(schedule)
        added = await self.scheduler.import_starters(interaction.guild.id)
        self.scheduler.wake()
        await interaction.followup.send(schedule_saved(schedule, channel.mention, added), ephemeral=True)

    @app_commands.command(name="status")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        """Show the next post time, the last outcome and how many prompts are left (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        approved = await self.bot.db.prompts.count_prompts(schedule.guild_id, "approved")
        await interaction.response.send_message(embed=card_embed(status_card(schedule, approved)), ephemeral=True)

    @app_commands.command(name="pause")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def pause(self, interaction: discord.Interaction) -> None:
        """Stop posting until resumed (Manage Server)."""
        await self._set_state(interaction, paused=True)
        await interaction.response.send_message(PAUSED, ephemeral=True)

    @app_commands.command(name="resume")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def resume(self, interaction: discord.Interaction) -> None:
        """Start posting again from the next occurrence (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        upcoming = next_occurrence(
            self.bot.clock.now(), schedule.weekday, schedule.local_time, load_zone(schedule.timezone)
        )
        await self._set_state(interaction, paused=False, upcoming=upcoming)
        await interaction.response.send_message(resumed(upcoming.due), ephemeral=True)

    @app_commands.command(name="skip")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def skip(self, interaction: discord.Interaction) -> None:
        """Skip the next scheduled post (Manage Server)."""
        schedule = await self._set_state(interaction, skip_next=True)
        await interaction.response.send_message(skipping(schedule.next_local_date), ephemeral=True)

    @app_commands.command(name="post-now")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def post_now(self, interaction: discord.Interaction) -> None:
        """Post the next prompt right away, outside the schedule (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.scheduler.guild_lock(schedule.guild_id):  # this server's work only, never another's
            outcome = await self.scheduler.post_now(schedule, f"now-{interaction.id}")
        await self.bot.db.schedules.set_schedule_outcome(schedule.guild_id, outcome)
        await interaction.followup.send(post_now_result(outcome), ephemeral=True)
