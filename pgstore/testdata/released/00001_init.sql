-- Times are timestamptz: instants at microsecond precision, whatever the
-- server's or the client's time zone. Hashes and throttle keys are bytea, so
-- that any bytes compare exactly and none is rejected as invalid text.

-- +goose Up
CREATE TABLE users (
	-- An identity column draws from a sequence, so an ID is never reused
	-- after a delete. ALWAYS: only the sequence assigns IDs.
	id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         text        NOT NULL, -- normalised by the caller
	name          text        NOT NULL,
	password_hash text        NOT NULL,
	created_at    timestamptz NOT NULL,
	last_login_at timestamptz           -- NULL: never logged in
);

-- The store turns a unique violation of this index, found by its name, into
-- account.ErrEmailTaken: rename it only together with the Go constant.
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE sessions (
	id            text        PRIMARY KEY,
	user_id       text        NOT NULL,
	token_hash    bytea       NOT NULL UNIQUE,
	remember_hash bytea       UNIQUE,   -- NULL: not remembered
	remember      boolean     NOT NULL,
	fresh         boolean     NOT NULL,
	created_at    timestamptz NOT NULL,
	last_seen_at  timestamptz NOT NULL,
	expires_at    timestamptz NOT NULL,
	ip            text        NOT NULL,
	user_agent    text        NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE login_failures (
	key          bytea       PRIMARY KEY,
	failures     integer     NOT NULL,
	last_failure timestamptz NOT NULL
);

-- For the periodic sweep of stale records, which would otherwise read the
-- whole table, perhaps large after a spray of guesses from many addresses.
CREATE INDEX login_failures_last_failure ON login_failures (last_failure);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
