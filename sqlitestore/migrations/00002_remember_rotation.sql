-- The remember-me token before its last rotation, accepted for a short
-- grace so that a browser reopening several tabs at once stays logged in,
-- and when it was rotated. NULL: none / never.

-- +goose Up
ALTER TABLE latch_sessions ADD COLUMN prev_remember_hash BLOB;
ALTER TABLE latch_sessions ADD COLUMN rotated_at INTEGER;
CREATE UNIQUE INDEX latch_sessions_prev_remember_hash ON latch_sessions (prev_remember_hash);

-- +goose Down
DROP INDEX latch_sessions_prev_remember_hash;
ALTER TABLE latch_sessions DROP COLUMN rotated_at;
ALTER TABLE latch_sessions DROP COLUMN prev_remember_hash;
