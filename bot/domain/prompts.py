"""Weekly discussion prompts: the queue's rules, near-duplicate detection, schedules, posts and their markers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from rapidfuzz import fuzz, utils

from bot.domain.schedule import WEEKDAYS
from bot.domain.text import truncate

PromptStatus = Literal["suggested", "approved", "posted", "rejected", "retired"]
STATUSES: tuple[PromptStatus, ...] = ("suggested", "approved", "posted", "rejected", "retired")
LOW_QUEUE = 2  # warn admins when this many approved prompts or fewer remain
SIMILARITY_THRESHOLD = 85.0
# A post made this soon after its due time is on time, whatever the grace period (the scheduler wakes a few
# milliseconds late, and a passing Discord error is retried within it): grace_hours 0 means "never late", not "never".
ON_TIME_TOLERANCE = timedelta(minutes=5)
#: Discussion in a prompt's thread counts towards its engagement for this long after it was posted.
ENGAGEMENT_WINDOW = timedelta(days=7)

#: The custom_id of the "Suggest a prompt" button on a post, which also finds the post again after a crash.
POST_MARKER_TEMPLATE = r"align:prompt:suggest:(?P<post_id>\d+)"
#: Posts made before the button existed carry only this footer. Frozen: it must match what those versions wrote,
#: whatever a post says today.
LEGACY_POST_FOOTER = "Weekly prompt · {occurrence}"


@dataclass(frozen=True, slots=True)
class Prompt:
    """A discussion prompt in a server's queue."""

    id: int
    guild_id: int
    title: str | None
    text: str
    concept_id: str | None
    tags: tuple[str, ...]
    author_id: int | None
    starter_id: str | None
    status: PromptStatus
    created_at: datetime
    posted_at: datetime | None
    reviewed_by: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A server's weekly posting schedule."""

    guild_id: int
    channel_id: int
    weekday: int
    local_time: time
    timezone: str
    ping_role_id: int | None
    open_thread: bool
    mod_channel_id: int | None
    paused: bool
    skip_next: bool
    grace_hours: int
    next_due_at: datetime
    next_local_date: str
    last_outcome: str | None
    #: A passing failure at the current occurrence: when to try again, how many tries so far, and why.
    retry_at: datetime | None = None
    attempts: int = 0
    retry_reason: str | None = None
    #: The bot is not in the server (it was removed); posting resumes when it is added back.
    absent: bool = False

    @property
    def deadline(self) -> datetime:
        """Return the latest moment the current occurrence may still be posted."""
        return post_deadline(self.next_due_at, self.grace_hours)


@dataclass(frozen=True, slots=True)
class PromptPost:
    """One posting of a prompt: claimed first, completed with the message and thread ids after."""

    id: int
    guild_id: int
    occurrence: str
    prompt_id: int | None
    channel_id: int
    status: str
    claimed_at: datetime
    completed_at: datetime | None
    message_id: int | None
    thread_id: int | None
    wants_thread: bool
    error: str | None
    deadline: datetime | None = None
    thread_attempts: int = 0
    thread_retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PostStats:
    """Engagement with one posted prompt in its first week."""

    post: PromptPost
    prompt: Prompt | None
    messages: int
    participants: int


def post_deadline(due: datetime, grace_hours: int) -> datetime:
    """Return the latest moment a post due at `due` may go out: the grace period plus the on-time tolerance."""
    return due + timedelta(hours=grace_hours) + ON_TIME_TOLERANCE


def parse_tags(text: str | None) -> tuple[str, ...]:
    """Read `ethics, Power` as ('ethics', 'power'): lowercase, de-duplicated, at most 5."""
    if not text:
        return ()
    tags = [t.strip().lower().replace(" ", "-") for t in text.replace(";", ",").split(",")]
    return tuple(dict.fromkeys(t[:30] for t in tags if t))[:5]


def choose_next(approved: Sequence[Prompt], last_tags: Sequence[str]) -> Prompt | None:
    """Pick the oldest approved prompt, skipping ahead past ones that repeat last week's theme if possible."""
    queue = sorted(approved, key=lambda p: (p.created_at, p.id))
    fresh = [p for p in queue if not set(p.tags) & set(last_tags)]
    candidates = fresh or queue
    return candidates[0] if candidates else None


def similar_prompts(text: str, existing: Sequence[Prompt], limit: int = 3) -> list[tuple[Prompt, float]]:
    """Return existing prompts that say nearly the same thing as `text`, most similar first."""
    needle = utils.default_process(text)
    scored = [(p, fuzz.token_set_ratio(needle, utils.default_process(p.text))) for p in existing]
    close = [(p, s) for p, s in scored if s >= SIMILARITY_THRESHOLD]
    return sorted(close, key=lambda item: -item[1])[:limit]


def post_marker(post_id: int) -> str:
    """Return the custom_id that marks a post (its "Suggest a prompt" button), to find it again after a crash."""
    return f"align:prompt:suggest:{post_id}"


def is_legacy_post(footer: str | None, occurrence: str) -> bool:
    """Whether an embed footer marks the post of `occurrence` as versions before the button wrote it."""
    return footer == LEGACY_POST_FOOTER.format(occurrence=occurrence)


def thread_name(prompt: Prompt) -> str:
    """Return a thread title for the prompt (Discord allows 100 characters)."""
    return truncate(prompt.title or prompt.text, 100)


def describe_schedule(schedule: Schedule) -> str:
    """Say when a schedule posts, e.g. `Thursdays at 19:00 (Europe/London)`."""
    return f"{WEEKDAYS[schedule.weekday]}s at {schedule.local_time:%H:%M} ({schedule.timezone})"


class RecentThreads:
    """The prompt threads still in their first week, whose messages count towards engagement.

    Entries older than the window are dropped as they are met and on every `prune`, so the map holds a week of
    threads however long the bot runs.
    """

    def __init__(self, window: timedelta = ENGAGEMENT_WINDOW) -> None:
        self.window = window
        self._threads: dict[int, tuple[int, datetime]] = {}  # thread id -> (post id, opened at)

    def __len__(self) -> int:
        """Count the threads held."""
        return len(self._threads)

    def reset(self, threads: Mapping[int, tuple[int, datetime]], now: datetime) -> None:
        """Hold exactly `threads` ({thread id: (post id, opened at)}), less those already past the window."""
        self._threads = dict(threads)
        self.prune(now)

    def add(self, thread_id: int, post_id: int, opened_at: datetime) -> None:
        """Remember a prompt's thread from the moment it opened."""
        self._threads[thread_id] = (post_id, opened_at)

    def post_for(self, thread_id: int, now: datetime) -> int | None:
        """Return the post whose thread this is, while the thread is in its first week; None otherwise."""
        entry = self._threads.get(thread_id)
        if entry is None:
            return None
        if now - entry[1] > self.window:
            del self._threads[thread_id]
            return None
        return entry[0]

    def prune(self, now: datetime) -> None:
        """Drop the threads past their first week."""
        self._threads = {t: e for t, e in self._threads.items() if now - e[1] <= self.window}
