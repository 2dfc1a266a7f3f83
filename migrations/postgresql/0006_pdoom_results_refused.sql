-- Reason: P(Doom): a results post Discord refused for good (channel gone, permission missing, AutoMod) is recorded
-- as its own state instead of as the message id 0, so a message id is always a real message.
-- The check spans two columns, so here it is a table constraint (SQLite accepts it on the column).
ALTER TABLE pdoom_rounds ADD COLUMN results_refused INTEGER NOT NULL DEFAULT 0
    CHECK (results_refused IN (0, 1));

-- Rounds closed by the versions that recorded a refusal as 0 (before the check below, which they would fail).
UPDATE pdoom_rounds SET results_refused = 1, results_message_id = NULL WHERE results_message_id = 0;

ALTER TABLE pdoom_rounds ADD CONSTRAINT pdoom_rounds_results_refused_or_posted
    CHECK (NOT (results_refused = 1 AND results_message_id IS NOT NULL));
