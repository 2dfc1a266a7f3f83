-- Reason: start the schema with a key/value table for bot-wide state (e.g. the hash of the last command sync).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
