-- Reason: weekly discussion prompts: each server's prompt queue, its schedule, and every post (claimed, then completed).
CREATE TABLE prompts (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    title              TEXT,
    text               TEXT    NOT NULL,
    concept_id         TEXT,
    tags               TEXT    NOT NULL DEFAULT '',   -- comma-separated
    author_id          INTEGER,
    starter_id         TEXT,                          -- id in content/prompts.yaml, for imports without duplicates
    status             TEXT    NOT NULL CHECK (status IN ('suggested', 'approved', 'posted', 'rejected', 'retired')),
    created_at         TEXT    NOT NULL,
    posted_at          TEXT,
    UNIQUE (guild_id, starter_id)
) STRICT;
CREATE INDEX prompts_queue ON prompts (guild_id, status, created_at, id);

CREATE TABLE prompt_schedules (
    guild_id           INTEGER PRIMARY KEY,
    channel_id         INTEGER NOT NULL,
    weekday            INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    local_time         TEXT    NOT NULL,              -- HH:MM, wall clock in `timezone`
    timezone           TEXT    NOT NULL,              -- IANA name
    ping_role_id       INTEGER,
    open_thread        INTEGER NOT NULL CHECK (open_thread IN (0, 1)),
    mod_channel_id     INTEGER,
    paused             INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    skip_next          INTEGER NOT NULL DEFAULT 0 CHECK (skip_next IN (0, 1)),
    grace_hours        INTEGER NOT NULL DEFAULT 12,
    next_due_at        TEXT    NOT NULL,              -- UTC instant of the next occurrence
    next_local_date    TEXT    NOT NULL,              -- its local date: the occurrence's key
    last_outcome       TEXT
) STRICT;
-- Finding the next due post among thousands of schedules is one index lookup.
CREATE INDEX prompt_schedules_due ON prompt_schedules (next_due_at) WHERE paused = 0;

CREATE TABLE prompt_posts (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    occurrence    TEXT    NOT NULL,                   -- the local date, or 'now-<id>' for /prompts post-now
    prompt_id     INTEGER REFERENCES prompts (id) ON DELETE SET NULL,
    channel_id    INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('claimed', 'posted', 'failed', 'skipped', 'missed')),
    claimed_at    TEXT    NOT NULL,
    completed_at  TEXT,
    message_id    INTEGER,
    thread_id     INTEGER,
    wants_thread  INTEGER NOT NULL CHECK (wants_thread IN (0, 1)),
    error         TEXT,
    messages      INTEGER NOT NULL DEFAULT 0,         -- messages in its thread during the first week
    UNIQUE (guild_id, occurrence)                     -- each occurrence is claimed once
) STRICT;
CREATE INDEX prompt_posts_open ON prompt_posts (status) WHERE status = 'claimed';
CREATE INDEX prompt_posts_thread ON prompt_posts (thread_id) WHERE thread_id IS NOT NULL;

CREATE TABLE prompt_thread_members (
    post_id  INTEGER NOT NULL REFERENCES prompt_posts (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    PRIMARY KEY (post_id, user_id)
) STRICT;
