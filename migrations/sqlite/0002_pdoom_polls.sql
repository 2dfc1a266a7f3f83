-- Reason: P(Doom) poll rounds, every submitted estimate, and each member's current answer per round.
CREATE TABLE pdoom_rounds (
    id                   INTEGER PRIMARY KEY,
    guild_id             INTEGER NOT NULL,
    number               INTEGER NOT NULL,           -- 1, 2, 3... within the guild
    channel_id           INTEGER NOT NULL,
    message_id           INTEGER,                    -- the poll message, once posted
    question             TEXT    NOT NULL,
    doom_definition      TEXT    NOT NULL,
    horizon              TEXT    NOT NULL,
    show_results_early   INTEGER NOT NULL CHECK (show_results_early IN (0, 1)),
    opened_by            INTEGER NOT NULL,
    opened_at            TEXT    NOT NULL,           -- ISO 8601, UTC
    closes_at            TEXT,
    closed_at            TEXT,
    results_message_id   INTEGER,
    UNIQUE (guild_id, number)
) STRICT;

-- At most one open round per server.
CREATE UNIQUE INDEX pdoom_rounds_one_open ON pdoom_rounds (guild_id) WHERE closed_at IS NULL;
CREATE INDEX pdoom_rounds_closing ON pdoom_rounds (closes_at) WHERE closed_at IS NULL;

CREATE TABLE pdoom_votes (
    id            INTEGER PRIMARY KEY,
    round_id      INTEGER NOT NULL REFERENCES pdoom_rounds (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    value         REAL    NOT NULL CHECK (value > 0 AND value < 1),
    raw           TEXT    NOT NULL,
    source        TEXT    NOT NULL CHECK (source IN ('button', 'typed')),
    submitted_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX pdoom_votes_by_user ON pdoom_votes (user_id, round_id);

CREATE TABLE pdoom_current (
    round_id  INTEGER NOT NULL REFERENCES pdoom_rounds (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    vote_id   INTEGER NOT NULL REFERENCES pdoom_votes (id) ON DELETE CASCADE,
    value     REAL    NOT NULL,
    PRIMARY KEY (round_id, user_id)
) STRICT;

-- Every new submission becomes the member's current answer in the same statement, so a vote is one atomic
-- INSERT (no separate transaction round-trips while a burst of votes arrives).
CREATE TRIGGER pdoom_votes_set_current AFTER INSERT ON pdoom_votes
BEGIN
    INSERT INTO pdoom_current (round_id, user_id, vote_id, value)
    VALUES (NEW.round_id, NEW.user_id, NEW.id, NEW.value)
    ON CONFLICT (round_id, user_id) DO UPDATE SET vote_id = excluded.vote_id, value = excluded.value;
END;
