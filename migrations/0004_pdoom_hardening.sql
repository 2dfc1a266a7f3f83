-- Reason: P(Doom) hardening: per-server settings (minimum respondents before aggregates are published).
SELECT 1;
