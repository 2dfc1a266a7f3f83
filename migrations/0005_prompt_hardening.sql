-- Reason: weekly prompt hardening: per-schedule retries, absent servers, thread retry bounds, who reviewed a suggestion.
SELECT 1;
