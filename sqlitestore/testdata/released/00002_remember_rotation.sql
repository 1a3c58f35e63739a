-- The remember-me token before its last rotation, accepted for a short
-- grace so that a browser reopening several tabs at once stays logged in,
-- and when it was rotated. NULL: none / never.

-- +goose Up
ALTER TABLE sessions ADD COLUMN prev_remember_hash BLOB;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
CREATE UNIQUE INDEX sessions_prev_remember_hash ON sessions (prev_remember_hash);

-- +goose Down
DROP INDEX sessions_prev_remember_hash;
ALTER TABLE sessions DROP COLUMN rotated_at;
ALTER TABLE sessions DROP COLUMN prev_remember_hash;
