"""The errors members and admins meet in the weekly prompts feature, each carrying its own sentence."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.prompt_texts import admin_command
from bot.domain.text import truncate
from bot.errors import UserFacingError


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
