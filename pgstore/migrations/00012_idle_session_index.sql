-- The sessions without remember-me, by when they were last used: the prune
-- finds those left idle through it, as it finds expired ones through
-- latch_sessions_expires_at, so that its cost follows what it deletes,
-- not the size of the table (the idle ones were found by reading
-- every session, a sequential scan). Remembered
-- sessions, which idleness does not end, are left out.

-- +goose Up
CREATE INDEX latch_sessions_idle ON latch_sessions (last_seen_at)
	WHERE NOT remember;

-- +goose Down
DROP INDEX latch_sessions_idle;
