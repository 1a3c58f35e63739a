-- Mailed tokens (password reset, email verification and change) and when
-- a user proved to own their address. Only a token's SHA-256 is kept.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at timestamptz; -- NULL: not verified

CREATE TABLE latch_tokens (
	hash       bytea       PRIMARY KEY,
	purpose    text        NOT NULL,
	user_id    bigint      NOT NULL,
	email      text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX latch_tokens_user_id ON latch_tokens (user_id);
CREATE INDEX latch_tokens_expires_at ON latch_tokens (expires_at); -- for pruning

-- +goose Down
DROP TABLE latch_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
