"""What the weekly prompts feature says in sentences: replies to members and admins, alerts, and its errors.

Every sentence that names a command builds the name from the group constants below, which the cogs register, so
a renamed command cannot leave a reply pointing at a command that no longer exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.prompts import Prompt, Schedule, describe_schedule
from bot.domain.text import truncate
from bot.errors import UserFacingError

MEMBER_GROUP = "prompts"
ADMIN_GROUP = "prompts-admin"
UNAVAILABLE = "Prompts are not available right now; please try again in a minute."
ALERT_PREFIX = "⚠️ Weekly prompts: "


def admin_command(name: str) -> str:
    """Return an admin command as members type it, e.g. `/prompts-admin add`."""
    return f"/{ADMIN_GROUP} {name}"


def discord_time(moment: datetime) -> str:
    """Format an instant as Discord's <t:...:F> markup, which each reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:F>"


# --- errors ---


class AlreadyReviewed(UserFacingError):
    """Another moderator reviewed the suggestion first."""

    default_message = "This suggestion was already reviewed or removed."

    def __init__(self, status: str | None = None, reviewer_id: int | None = None) -> None:
        by = f" by <@{reviewer_id}>" if reviewer_id else ""
        super().__init__(f"This suggestion was already {status}{by}; nothing changed." if status else None)


class ReviewNotAllowed(UserFacingError):
    """A member without Manage Server clicked Approve or Reject."""

    default_message = "Only members with Manage Server can review suggestions."


class NoSuchPrompt(UserFacingError):
    """The server has no prompt with that number."""

    default_message = f"There is no such prompt in this server; `{admin_command('list')}` shows them."

    def __init__(self, prompt_id: int | None = None) -> None:
        super().__init__(
            f"There is no prompt #{prompt_id} in this server; `{admin_command('list')}` shows them."
            if prompt_id is not None
            else None
        )


class UnknownConcept(UserFacingError):
    """The concept named for a prompt is not in the library."""

    default_message = "I don't know that concept; pick one from the list."

    def __init__(self, name: str | None = None) -> None:
        super().__init__(
            f"I don't know a concept called {truncate(name, 60)!r}; pick one from the list." if name else None
        )


class NoSchedule(UserFacingError):
    """The server has not set a schedule yet."""

    default_message = f"This server has no prompt schedule yet; set one with `{admin_command('schedule')}`."


class NothingQueued(UserFacingError):
    """No approved prompt is waiting to be posted."""

    default_message = "No approved prompts are queued."


class NothingToReview(UserFacingError):
    """No suggestion is waiting for review."""

    default_message = "No suggestions are waiting for review."


class NothingPosted(UserFacingError):
    """No prompt has been posted in the server yet."""

    default_message = "No prompts have been posted yet."


class CannotPostThere(UserFacingError):
    """The bot lacks permissions it needs in the chosen prompt channel."""

    default_message = "I lack permissions I need in that channel before I can post there."

    def __init__(self, missing: Sequence[str] = (), channel_mention: str = "that channel") -> None:
        super().__init__(
            f"I need {', '.join(missing)} in {channel_mention} before I can post there." if missing else None
        )


# --- replies ---


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


# --- outcomes and alerts ---


def alert_text(text: str) -> str:
    """Prefix an alert so admins see at once which feature it is about."""
    return ALERT_PREFIX + text


def post_failed(occurrence: str, reason: str) -> str:
    """Tell the admins an occurrence could not be posted, and why."""
    return f"I couldn't post the prompt for {occurrence}: {reason}."


def missed_while_offline(missed: int, first_missed: str) -> str:
    """Report occurrences that passed while the bot was offline (not made up)."""
    return f"Missed {missed} weekly post(s) while offline (from {first_missed}); not made up."


def queue_running_low(remaining: int) -> str:
    """Warn the admins that few approved prompts are left."""
    return f"Only {remaining} approved prompt(s) left. Add more with `{admin_command('add')}` or approve suggestions."


def failed_outcome(reason: str) -> str:
    """Record a failed occurrence, as /prompts-admin status shows it."""
    return f"Failed: {reason}"


def not_posted_now(reason: str) -> str:
    """Say why /prompts-admin post-now did not post."""
    return f"Not posted: {reason}. Please try again in a few minutes"


NOT_IN_SERVER = "I'm not in this server any more"
CHANNEL_GONE = f"the prompt channel no longer exists; run {admin_command('schedule')} to pick another"
QUEUE_EMPTY = f"no approved prompts are left; add some with {admin_command('add')}"
NOT_SENT_IN_TIME = "it was not sent in time"
NO_SCHEDULE_ANY_MORE = "the server has no schedule any more"
PROMPT_DELETED = "its prompt was deleted"
MESSAGE_DELETED = "the prompt message was deleted, so it has no thread"


def lacking(missing: Sequence[str], channel_mention: str) -> str:
    """Name the permissions the bot lacks in the prompt channel."""
    return f"I lack {', '.join(missing)} in {channel_mention}"


def gave_up(attempts: int, last_reason: str | None) -> str:
    """Say why an occurrence was given up at its deadline."""
    if not attempts:
        return NOT_SENT_IN_TIME
    return f"{last_reason}; gave up after {attempts} tries"


def thread_not_allowed(channel_mention: str) -> str:
    """Say that the week's prompt has no thread because the bot may not open one."""
    return f"I lack Create Public Threads in {channel_mention}, so this week's prompt has no thread"


def thread_refused(fault: str) -> str:
    """Say that Discord refused to open the week's thread."""
    return f"Discord wouldn't open this week's thread: {fault}"


def thread_gave_up(attempts: int, fault: str) -> str:
    """Say that the week's thread could not be opened after several tries."""
    return f"I couldn't open this week's discussion thread after {attempts} tries ({fault})"
