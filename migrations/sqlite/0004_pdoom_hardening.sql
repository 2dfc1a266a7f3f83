-- Reason: P(Doom) hardening: per-server settings (minimum respondents before aggregates are published),
-- and the last step of a close (the poll message shows its closed state) recorded, so a restart finishes it.
CREATE TABLE pdoom_settings (
    guild_id         INTEGER PRIMARY KEY,
    -- Below 3, the median and quartiles give individual answers away.
    min_respondents  INTEGER NOT NULL CHECK (min_respondents >= 3)
) STRICT;

ALTER TABLE pdoom_rounds ADD COLUMN poll_message_closed INTEGER NOT NULL DEFAULT 0
    CHECK (poll_message_closed IN (0, 1));

-- Rounds whose results were already posted were finished by the code of their time: don't edit them again.
UPDATE pdoom_rounds SET poll_message_closed = 1 WHERE closed_at IS NOT NULL AND results_message_id IS NOT NULL;
