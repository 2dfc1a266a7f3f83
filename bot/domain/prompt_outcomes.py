"""What the weekly prompt scheduler reports: each occurrence's outcome, the admins' alerts, and why posts failed.

Outcomes are what /prompts-admin status shows as the last thing that happened; reasons are the phrases outcomes and
alerts give for a failure.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.prompt_texts import admin_command
from bot.domain.prompts import PromptPost

ALERT_PREFIX = "⚠️ Weekly prompts: "

# Why an occurrence was not posted (or not yet), as outcomes and alerts give it.
NOT_IN_SERVER = "I'm not in this server any more"
SERVER_NOT_ANNOUNCED = "Discord hasn't told me about this server yet"
SERVER_UNAVAILABLE = "the server is unavailable on Discord's side"
PROMPT_TAKEN = "another post took the same prompt at the same moment"
WAS_OFFLINE = "the bot was offline"
CHANNEL_GONE = f"the prompt channel no longer exists; run {admin_command('schedule')} to pick another"
QUEUE_EMPTY = f"no approved prompts are left; add some with {admin_command('add')}"
NOT_SENT_IN_TIME = "it was not sent in time"
NO_SCHEDULE_ANY_MORE = "the server has no schedule any more"
PROMPT_DELETED = "its prompt was deleted"
MESSAGE_DELETED = "the prompt message was deleted, so it has no thread"


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


def skipped_outcome(occurrence: str) -> str:
    """Record a skipped occurrence, as /prompts-admin status shows it."""
    return f"Skipped {occurrence}"


def work_failed(timed_out: bool, error_code: str) -> str:
    """Say why a server's work in a pass failed unexpectedly, with the code that finds it in the log."""
    cause = "Discord didn't answer in time" if timed_out else "an error"
    return f"{cause} (code {error_code})"


def failed_outcome(reason: str) -> str:
    """Record a failed occurrence, as /prompts-admin status shows it."""
    return f"Failed: {reason}"


def describe_outcome(post: PromptPost) -> str:
    """Say in a sentence what became of an occurrence, as `/prompts-admin status` shows it."""
    if post.status == "posted":
        return f"Posted prompt #{post.prompt_id} for {post.occurrence}"
    if post.status == "skipped":
        return skipped_outcome(post.occurrence)
    if post.status == "claimed":
        return f"Posting the prompt for {post.occurrence}"
    if post.status == "missed":
        return f"Missed {post.occurrence} ({post.error or 'not posted in time'})"
    return failed_outcome(post.error) if post.error else f"Failed to post for {post.occurrence}"


def not_posted_now(reason: str) -> str:
    """Say why /prompts-admin post-now did not post."""
    return f"Not posted: {reason}. Please try again in a few minutes"


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
