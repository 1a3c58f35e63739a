-- The sessions without remember-me, by when they were last used: the prune
-- finds those left idle through it, as it finds expired ones through
-- latch_sessions_expires_at, so that its cost follows what it deletes,
-- not the size of the table (a prune that deleted nothing read every
-- session, 0.8 s of CPU at three million). Remembered
-- sessions, which idleness does not end, are left out.

-- +goose Up
CREATE INDEX latch_sessions_idle ON latch_sessions (last_seen_at)
	WHERE remember = 0;

-- +goose Down
DROP INDEX latch_sessions_idle;
