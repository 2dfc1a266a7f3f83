-- Reason: start the schema with a key/value table for bot-wide state (e.g. the hash of the last command sync).
-- The PostgreSQL history mirrors migrations/sqlite file by file: the same tables, columns and checks, with Discord
-- ids as BIGINT and timestamps kept as the same ISO 8601 text, so rows move between the two unchanged.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
