-- Reason: weekly prompt hardening: each schedule retries on its own, servers the bot left are paused, thread retries are bounded, and a review records its reviewer.
-- A transient failure (5xx, 429, network, server unavailable) retries that schedule alone, with backoff, until its deadline.
ALTER TABLE prompt_schedules ADD COLUMN retry_at TEXT;                 -- next attempt at the current occurrence
ALTER TABLE prompt_schedules ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompt_schedules ADD COLUMN retry_reason TEXT;             -- why the last attempt did not go through
-- Set while the bot is not in the server (it was removed); cleared when it is added back.
ALTER TABLE prompt_schedules ADD COLUMN absent INTEGER NOT NULL DEFAULT 0 CHECK (absent IN (0, 1));
DROP INDEX prompt_schedules_due;
CREATE INDEX prompt_schedules_due ON prompt_schedules (coalesce(retry_at, next_due_at)) WHERE paused = 0 AND absent = 0;

-- The latest moment a claimed post may still be sent (its due time plus the grace period); after it, it fails.
ALTER TABLE prompt_posts ADD COLUMN deadline TEXT;
ALTER TABLE prompt_posts ADD COLUMN thread_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompt_posts ADD COLUMN thread_retry_at TEXT;
CREATE INDEX prompt_posts_thread_wanted ON prompt_posts (thread_retry_at)
    WHERE status = 'posted' AND wants_thread = 1 AND thread_id IS NULL;

ALTER TABLE prompts ADD COLUMN reviewed_by INTEGER;
