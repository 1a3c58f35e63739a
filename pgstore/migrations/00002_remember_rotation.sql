-- The remember-me token before its last rotation, accepted for a short
-- grace so that a browser reopening several tabs at once stays logged in,
-- and when it was rotated. NULL: none / never.

-- +goose Up
ALTER TABLE latch_sessions
	ADD COLUMN prev_remember_hash bytea UNIQUE,
	ADD COLUMN rotated_at timestamptz;

-- +goose Down
ALTER TABLE latch_sessions
	DROP COLUMN rotated_at,
	DROP COLUMN prev_remember_hash;
