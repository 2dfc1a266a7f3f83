"""/prompts: the weekly discussion prompt queue, suggestions and their review, and each server's schedule.

The posting itself (on time, exactly once, across restarts) is done by bot.exts.prompts.scheduler.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import AlignmentBot
from bot.domain.prompts import (
    STATUSES,
    AlreadyReviewed,
    Prompt,
    PromptStatus,
    Schedule,
    choose_next,
    describe_schedule,
    parse_tags,
    prompt_card,
    similar_prompts,
)
from bot.domain.schedule import (
    WEEKDAYS,
    Occurrence,
    load_zone,
    next_occurrence,
    parse_local_time,
    zone_suggestions,
)
from bot.domain.text import truncate
from bot.errors import UserFacingError
from bot.exts.prompts.scheduler import PromptScheduler, missing_permissions
from bot.render import EMBED_COLOUR, card_embed
from bot.ui import BaseModal, BaseView, ReportingDynamicItem, cog_for, concept_autocomplete

log = logging.getLogger(__name__)

PAGE_SIZE = 8
WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(WEEKDAYS)]
STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in STATUSES]


def _cog(interaction: discord.Interaction[Any]) -> Prompts:
    return cog_for(interaction, Prompts, "Prompts are not available right now; please try again in a minute.")


class ReviewButton(
    ReportingDynamicItem[discord.ui.Button[Any]],
    template=r"align:prompt:review:(?P<id>\d+):(?P<action>approve|reject)",
):
    """Approve or reject a suggested prompt (Manage Server); the custom_id carries the prompt and action."""

    def __init__(self, prompt_id: int, action: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=action.title(),
                style=discord.ButtonStyle.success if action == "approve" else discord.ButtonStyle.danger,
                custom_id=f"align:prompt:review:{prompt_id}:{action}",
            )
        )
        self.prompt_id, self.action = prompt_id, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        """Rebuild the button from its custom_id."""
        return cls(int(match["id"]), match["action"])

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Apply the decision, update the review message, and tell the suggester."""
        await _cog(interaction).review(interaction, self.prompt_id, self.action == "approve")


def review_view(prompt_id: int) -> discord.ui.View:
    """Build the Approve / Reject buttons for a suggestion."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(prompt_id, "approve"))
    view.add_item(ReviewButton(prompt_id, "reject"))
    return view


class SuggestModal(BaseModal, title="Suggest a discussion prompt"):
    """The form members fill in to suggest a prompt."""

    prompt_title: discord.ui.TextInput[SuggestModal] = discord.ui.TextInput(
        label="Short title (optional)", custom_id="title", required=False, max_length=100
    )
    text: discord.ui.TextInput[SuggestModal] = discord.ui.TextInput(
        label="The question, with a sentence of setup",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        min_length=20,
        max_length=1000,
    )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Queue the suggestion for review."""
        await _cog(interaction).suggest(interaction, self.text.value, self.prompt_title.value or None)


class PromptPages(BaseView):
    """Previous / Next over a list of prompts, for the admin who asked."""

    def __init__(self, cog: Prompts, guild_id: int, status: PromptStatus | None, total: int) -> None:
        super().__init__(timeout=600)
        self.cog, self.guild_id, self.status, self.total = cog, guild_id, status, total
        self.page = 0

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // PAGE_SIZE))

    async def render(self) -> discord.Embed:
        """Build the embed for the current page and enable the right buttons."""
        prompts = await self.cog.bot.db.prompts.list_prompts(
            self.guild_id, self.status, offset=self.page * PAGE_SIZE, limit=PAGE_SIZE
        )
        lines = [
            f"**#{p.id}** [{p.status}] {truncate(p.title or p.text, 80)}"
            + (f" · {', '.join(p.tags)}" if p.tags else "")
            for p in prompts
        ]
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1
        embed = discord.Embed(
            title=f"Prompts{f' ({self.status})' if self.status else ''}",
            description="\n".join(lines) or "No prompts here yet.",
            colour=EMBED_COLOUR,
        )
        return embed.set_footer(text=f"Page {self.page + 1} of {self.pages} · {self.total} prompt(s)")

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Show the previous page."""
        self.page = max(self.page - 1, 0)
        await interaction.response.edit_message(embed=await self.render(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """Show the next page."""
        self.page = min(self.page + 1, self.pages - 1)
        await interaction.response.edit_message(embed=await self.render(), view=self)


@app_commands.guild_only()
class Prompts(commands.GroupCog, group_name="prompts"):
    """Weekly discussion prompts."""

    def __init__(self, bot: AlignmentBot) -> None:
        self.bot = bot
        self.scheduler = PromptScheduler(bot)

    async def cog_load(self) -> None:
        """Listen for review buttons and start the scheduler."""
        self.bot.add_dynamic_items(ReviewButton)
        self.scheduler.start()

    async def cog_unload(self) -> None:
        """Stop the scheduler, letting a post that has begun finish and be recorded."""
        self.bot.remove_dynamic_items(ReviewButton)
        await self.scheduler.stop()

    # --- events ---

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Count discussion in prompt threads."""
        await self.scheduler.count_message(message)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Give a new server the starter prompts; resume its schedule if the bot was added back."""
        await self.scheduler.guild_joined(guild.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Pause the schedule of a server that removed the bot, so it doesn't fail every week."""
        await self.scheduler.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Post at once what waited for the server to come back from an outage."""
        self.scheduler.wake()

    # --- suggestions and review ---

    async def suggest(self, interaction: discord.Interaction[Any], text: str, title: str | None) -> None:
        """Queue a member's suggestion and send it to the review channel, flagging near-duplicates."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.add_prompt(
            guild_id=interaction.guild_id,
            text=text,
            title=title,
            concept_id=None,
            tags=(),
            author_id=interaction.user.id,
            status="suggested",
            now=self.bot.clock.now(),
        )
        similar = await self.similar_to(prompt)
        schedule = await self.bot.db.schedules.get_schedule(interaction.guild_id)
        review_channel = self.bot.get_channel(schedule.mod_channel_id) if schedule and schedule.mod_channel_id else None
        if isinstance(review_channel, discord.TextChannel):
            embed = self.review_embed(prompt, similar, interaction.user)
            try:
                await review_channel.send(embed=embed, view=review_view(prompt.id))
            except discord.HTTPException:
                log.warning("Could not post suggestion %s for review in %s", prompt.id, review_channel.id)
        note = " It looks similar to an existing prompt, which the admins will see." if similar else ""
        await interaction.response.send_message(
            f"Thanks! Your suggestion (#{prompt.id}) is waiting for an admin's review.{note}", ephemeral=True
        )

    async def similar_to(self, prompt: Prompt) -> list[tuple[Prompt, float]]:
        """Return the server's other prompts that say nearly the same thing as `prompt`."""
        existing = await self.bot.db.prompts.list_prompts(prompt.guild_id, None, limit=1000)
        return similar_prompts(prompt.text, [p for p in existing if p.id != prompt.id])

    def review_embed(
        self, prompt: Prompt, similar: list[tuple[Prompt, float]], author: discord.abc.User | None
    ) -> discord.Embed:
        """Show a suggestion to reviewers, with any near-duplicates."""
        embed = discord.Embed(
            title=f"Suggested prompt #{prompt.id}" + (f": {prompt.title}" if prompt.title else ""),
            description=prompt.text,
            colour=EMBED_COLOUR,
        )
        if similar:
            embed.add_field(
                name="⚠️ Similar to",
                value="\n".join(f"#{p.id} ({score:.0f}%): {truncate(p.text, 120)}" for p, score in similar),
                inline=False,
            )
        if author is not None:
            embed.set_footer(text=f"Suggested by {author.display_name}")
        return embed

    async def review(self, interaction: discord.Interaction[Any], prompt_id: int, approve: bool) -> None:
        """Approve or reject a suggestion (Manage Server) and tell the suggester."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            raise UserFacingError("Only members with Manage Server can review suggestions.")
        status: PromptStatus = "approved" if approve else "rejected"
        # Compare-and-set: of two moderators reviewing at once, only the first changes it (and the suggester
        # hears one verdict); the other is told who was first.
        prompt = await self.bot.db.prompts.review_prompt(interaction.guild_id, prompt_id, status, interaction.user.id)
        if prompt is None:
            current = await self.bot.db.prompts.get_prompt(interaction.guild_id, prompt_id)
            raise AlreadyReviewed(current.status, current.reviewed_by) if current else AlreadyReviewed()
        verdict = "approved ✅" if approve else "rejected"
        await interaction.response.edit_message(
            content=f"Suggestion #{prompt_id} {verdict} by {interaction.user.mention}.", view=None
        )
        if prompt.author_id:
            guild_name = interaction.guild.name if interaction.guild else "the server"
            try:
                user = self.bot.get_user(prompt.author_id) or await self.bot.fetch_user(prompt.author_id)
                await user.send(
                    f"Your discussion prompt suggestion in {guild_name} was {verdict.split()[0]}: "
                    f"“{truncate(prompt.text, 200)}”"
                )
            except discord.HTTPException:
                log.info("Could not tell user %s about suggestion %s", prompt.author_id, prompt_id)

    # --- commands ---

    async def timezone_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggest IANA time zones."""
        return [app_commands.Choice(name=z, value=z) for z in zone_suggestions(current)]

    def _concept_id(self, name: str | None) -> str | None:
        if name is None:
            return None
        concept = self.bot.library.store.find(name)
        if concept is None:
            raise UserFacingError(f"I don't know a concept called {truncate(name, 60)!r}; pick one from the list.")
        return concept.id

    async def _prompt(self, interaction: discord.Interaction[Any], prompt_id: int) -> Prompt:
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.get_prompt(interaction.guild_id, prompt_id)
        if prompt is None:
            raise UserFacingError(f"There is no prompt #{prompt_id} in this server; `/prompts list` shows them.")
        return prompt

    @app_commands.command(name="add")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        text="The question, with a sentence of setup",
        title="A short title",
        concept="Link a concept (its summary and readings appear under the prompt)",
        tags="Themes, comma-separated (used to avoid the same theme two weeks running)",
    )
    @app_commands.autocomplete(concept=concept_autocomplete)
    async def add(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 20, 1000],
        title: app_commands.Range[str, 1, 100] | None = None,
        concept: str | None = None,
        tags: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Add an approved prompt to the queue (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        prompt = await self.bot.db.prompts.add_prompt(
            guild_id=interaction.guild_id,
            text=text,
            title=title,
            concept_id=self._concept_id(concept),
            tags=parse_tags(tags),
            author_id=interaction.user.id,
            status="approved",
            now=self.bot.clock.now(),
        )
        similar = await self.similar_to(prompt)
        note = f" Note: it is similar to #{similar[0][0].id}." if similar else ""
        await interaction.response.send_message(f"Added prompt #{prompt.id} to the queue.{note}", ephemeral=True)

    @app_commands.command(name="edit")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.autocomplete(concept=concept_autocomplete)
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.describe(prompt="The prompt number", status="Set approved to re-queue a posted prompt")
    async def edit(
        self,
        interaction: discord.Interaction,
        prompt: int,
        text: app_commands.Range[str, 20, 1000] | None = None,
        title: app_commands.Range[str, 1, 100] | None = None,
        concept: str | None = None,
        tags: app_commands.Range[str, 1, 200] | None = None,
        status: app_commands.Choice[str] | None = None,
    ) -> None:
        """Change a prompt's text, title, concept, themes or status (Manage Server)."""
        current = await self._prompt(interaction, prompt)
        updated = await self.bot.db.prompts.update_prompt(
            current.guild_id,
            current.id,
            text=text,
            title=title,
            concept_id=self._concept_id(concept),
            tags=parse_tags(tags) if tags else None,
            status=cast(PromptStatus, status.value) if status else None,
        )
        assert updated is not None  # noqa: S101 - it existed a moment ago
        await interaction.response.send_message(f"Updated prompt #{updated.id} ({updated.status}).", ephemeral=True)

    @app_commands.command(name="remove")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(prompt="The prompt number")
    async def remove(self, interaction: discord.Interaction, prompt: int) -> None:
        """Retire a prompt so it is never posted (Manage Server)."""
        current = await self._prompt(interaction, prompt)
        await self.bot.db.prompts.update_prompt(current.guild_id, current.id, status="retired")
        await interaction.response.send_message(f"Retired prompt #{current.id}.", ephemeral=True)

    @app_commands.command(name="list")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_prompts(
        self, interaction: discord.Interaction, status: app_commands.Choice[str] | None = None
    ) -> None:
        """List the prompts in this server's queue, page by page (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        value = cast(PromptStatus, status.value) if status else None
        total = await self.bot.db.prompts.count_prompts(interaction.guild_id, value)
        view = PromptPages(self, interaction.guild_id, value, total)
        await interaction.response.send_message(embed=await view.render(), view=view, ephemeral=True)

    @app_commands.command(name="preview")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(prompt="The prompt number (default: the one that would be posted next)")
    async def preview(self, interaction: discord.Interaction, prompt: int | None = None) -> None:
        """Show a prompt exactly as it will be posted (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        if prompt is None:
            approved = await self.bot.db.prompts.list_prompts(interaction.guild_id, "approved", limit=500)
            last = await self.bot.db.prompts.last_posted_prompt(interaction.guild_id)
            chosen = choose_next(approved, last.tags if last else ())
            if chosen is None:
                raise UserFacingError("No approved prompts are queued.")
        else:
            chosen = await self._prompt(interaction, prompt)
        embed = card_embed(prompt_card(chosen, self.bot.library.store, "preview"))
        await interaction.response.send_message(f"Prompt #{chosen.id} ({chosen.status}):", embed=embed, ephemeral=True)

    @app_commands.command(name="import")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def import_command(self, interaction: discord.Interaction) -> None:
        """Add the bot's starter prompts this server doesn't have yet (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        added = await self.scheduler.import_starters(interaction.guild_id)
        total = len(self.bot.library.store.prompts)
        await interaction.response.send_message(
            f"Imported {added} starter prompt(s); {total - added} were already here.", ephemeral=True
        )

    @app_commands.command(name="suggest")
    async def suggest_command(self, interaction: discord.Interaction) -> None:
        """Suggest a discussion prompt for the admins to review."""
        await interaction.response.send_modal(SuggestModal())

    @app_commands.command(name="review")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def review_command(self, interaction: discord.Interaction) -> None:
        """Review the oldest waiting suggestion (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        waiting = await self.bot.db.prompts.list_prompts(interaction.guild_id, "suggested", limit=1)
        if not waiting:
            raise UserFacingError("No suggestions are waiting for review.")
        prompt = waiting[0]
        author = self.bot.get_user(prompt.author_id) if prompt.author_id else None
        embed = self.review_embed(prompt, await self.similar_to(prompt), author)
        await interaction.response.send_message(embed=embed, view=review_view(prompt.id), ephemeral=True)

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
            raise UserFacingError(f"I need {', '.join(missing)} in {channel.mention} before I can post there.")
        now = self.bot.clock.now()
        upcoming = next_occurrence(now, weekday.value, at, zone)
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
        imported = f" Imported {added} starter prompt(s)." if added else ""
        await interaction.followup.send(
            f"Prompts will be posted in {channel.mention} on {describe_schedule(schedule)}. "
            f"Next: <t:{int(upcoming.due.timestamp())}:F>.{imported}",
            ephemeral=True,
        )

    async def _schedule_or_error(self, guild_id: int | None) -> Schedule:
        schedule = await self.bot.db.schedules.get_schedule(guild_id or 0)
        if schedule is None:
            raise UserFacingError("This server has no prompt schedule yet; set one with `/prompts schedule`.")
        return schedule

    @app_commands.command(name="status")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        """Show the next post time, the last outcome and how many prompts are left (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        zone = load_zone(schedule.timezone)
        approved = await self.bot.db.prompts.count_prompts(schedule.guild_id, "approved")
        local = schedule.next_due_at.astimezone(zone)
        state = "paused" if schedule.paused else ("the next one will be skipped" if schedule.skip_next else "active")
        embed = discord.Embed(title="Weekly prompts", colour=EMBED_COLOUR)
        embed.add_field(name="Schedule", value=f"{describe_schedule(schedule)} in <#{schedule.channel_id}>, {state}")
        embed.add_field(
            name="Next post",
            value=f"{local:%A %d %B %Y, %H:%M} {schedule.timezone}\n<t:{int(schedule.next_due_at.timestamp())}:F>"
            if not schedule.paused
            else "—",
            inline=False,
        )
        embed.add_field(name="Last outcome", value=schedule.last_outcome or "Nothing posted yet", inline=False)
        embed.add_field(name="Approved prompts left", value=str(approved))
        await interaction.response.send_message(embed=embed, ephemeral=True)

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

    @app_commands.command(name="pause")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def pause(self, interaction: discord.Interaction) -> None:
        """Stop posting until resumed (Manage Server)."""
        await self._set_state(interaction, paused=True)
        await interaction.response.send_message("Weekly prompts are paused.", ephemeral=True)

    @app_commands.command(name="resume")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def resume(self, interaction: discord.Interaction) -> None:
        """Start posting again from the next occurrence (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        upcoming = next_occurrence(
            self.bot.clock.now(), schedule.weekday, schedule.local_time, load_zone(schedule.timezone)
        )
        await self._set_state(interaction, paused=False, upcoming=upcoming)
        await interaction.response.send_message(
            f"Weekly prompts resumed; next <t:{int(upcoming.due.timestamp())}:F>.", ephemeral=True
        )

    @app_commands.command(name="skip")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def skip(self, interaction: discord.Interaction) -> None:
        """Skip the next scheduled post (Manage Server)."""
        schedule = await self._set_state(interaction, skip_next=True)
        await interaction.response.send_message(
            f"The post of {schedule.next_local_date} will be skipped.", ephemeral=True
        )

    @app_commands.command(name="post-now")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def post_now(self, interaction: discord.Interaction) -> None:
        """Post the next prompt right away, outside the schedule (Manage Server)."""
        schedule = await self._schedule_or_error(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.scheduler.guild_lock(schedule.guild_id):  # this server's work only, never another's
            outcome = await self.scheduler.post_now(schedule, f"now-{interaction.id}")
        await self.bot.db.schedules.set_schedule_outcome(schedule.guild_id, outcome)
        await interaction.followup.send(outcome + ".", ephemeral=True)

    @app_commands.command(name="stats")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def stats(self, interaction: discord.Interaction) -> None:
        """Show how much discussion each recent prompt got in its first week (Manage Server)."""
        assert interaction.guild_id is not None  # noqa: S101 - guild-only
        rows = await self.bot.db.prompts.post_stats(interaction.guild_id)
        if not rows:
            raise UserFacingError("No prompts have been posted yet.")
        lines = []
        for row in rows:
            name = f"#{row.prompt.id} {truncate(row.prompt.title or row.prompt.text, 60)}" if row.prompt else "#?"
            lines.append(f"**{name}** · {row.post.occurrence}: {row.messages} message(s), {row.participants} member(s)")
        embed = discord.Embed(title="Prompt engagement (first week)", description="\n".join(lines), colour=EMBED_COLOUR)
        embed.set_footer(text="Retire prompts that got no discussion with /prompts remove.")
        await interaction.response.send_message(embed=embed, ephemeral=True)
