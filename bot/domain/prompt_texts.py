"""What the weekly prompts feature replies to members and admins, and the names of its command groups.

Every sentence that names a command builds the name from the group constants below, which the cogs register, so
a renamed command cannot leave a reply pointing at a command that no longer exists. The feature's errors are in
prompt_errors.py, what the scheduler reports (outcomes, alerts and their reasons) in prompt_outcomes.py.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.prompts import Prompt, Schedule, describe_schedule
from bot.domain.text import truncate

MEMBER_GROUP = "prompts"
ADMIN_GROUP = "prompts-admin"
UNAVAILABLE = "Prompts are not available right now; please try again in a minute."


def admin_command(name: str) -> str:
    """Return an admin command as members type it, e.g. `/prompts-admin add`."""
    return f"/{ADMIN_GROUP} {name}"


def discord_time(moment: datetime) -> str:
    """Format an instant as Discord's <t:...:F> markup, which each reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:F>"


def suggestion_received(prompt_id: int, looks_similar: bool) -> str:
    """Thank a member for a suggestion, saying whether it resembles an existing prompt."""
    note = " It looks similar to an existing prompt, which the admins will see." if looks_similar else ""
    return f"Thanks! Your suggestion (#{prompt_id}) is waiting for an admin's review.{note}"


def review_decided(prompt_id: int, approved: bool, reviewer_mention: str) -> str:
    """Replace a review message with the decision and who made it."""
    return f"Suggestion #{prompt_id} {'approved ✅' if approved else 'rejected'} by {reviewer_mention}."


def verdict_message(guild_name: str | None, approved: bool, prompt: Prompt) -> str:
    """Tell the member who suggested a prompt what the admins decided (sent by direct message)."""
    return (
        f"Your discussion prompt suggestion in {guild_name or 'the server'} was "
        f"{'approved' if approved else 'rejected'}: “{truncate(prompt.text, 200)}”"
    )


def prompt_added(prompt_id: int, similar_to: int | None) -> str:
    """Confirm an admin's new prompt, pointing at a near-duplicate if there is one."""
    note = f" Note: it is similar to #{similar_to}." if similar_to is not None else ""
    return f"Added prompt #{prompt_id} to the queue.{note}"


def prompt_updated(prompt: Prompt) -> str:
    """Confirm an edit, with the prompt's status now."""
    return f"Updated prompt #{prompt.id} ({prompt.status})."


def prompt_retired(prompt_id: int) -> str:
    """Confirm that a prompt will never be posted."""
    return f"Retired prompt #{prompt_id}."


def preview_heading(prompt: Prompt) -> str:
    """Introduce a previewed prompt with its number and status."""
    return f"Prompt #{prompt.id} ({prompt.status}):"


def starters_imported(added: int, total: int) -> str:
    """Say how many starter prompts an import added and how many the server had already."""
    return f"Imported {added} starter prompt(s); {total - added} were already here."


def schedule_saved(schedule: Schedule, channel_mention: str, imported: int) -> str:
    """Confirm a new schedule: where and when it posts, the next post, and any starter prompts imported."""
    note = f" Imported {imported} starter prompt(s)." if imported else ""
    return (
        f"Prompts will be posted in {channel_mention} on {describe_schedule(schedule)}. "
        f"Next: {discord_time(schedule.next_due_at)}.{note}"
    )


PAUSED = "Weekly prompts are paused."


def resumed(next_due: datetime) -> str:
    """Confirm that posting resumes, and when."""
    return f"Weekly prompts resumed; next {discord_time(next_due)}."


def skipping(local_date: str) -> str:
    """Confirm which occurrence will be skipped."""
    return f"The post of {local_date} will be skipped."


def post_now_result(outcome: str) -> str:
    """Turn an outcome (`Posted prompt #3 for ...`) into the reply to /prompts-admin post-now."""
    return f"{outcome}."
