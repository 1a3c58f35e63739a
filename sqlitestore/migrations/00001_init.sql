-- Times are INTEGER microseconds since the Unix epoch, UTC; see the package
-- documentation. Tables are STRICT so that a value of the wrong type is an
-- error rather than silently stored.

-- +goose Up
CREATE TABLE latch_users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused after a delete
	email         TEXT    NOT NULL,                  -- normalised by the caller
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_login_at INTEGER                            -- NULL: never logged in
) STRICT;

-- The only unique constraint on users besides the key: a unique violation
-- when inserting a user means the email is taken.
CREATE UNIQUE INDEX latch_users_email ON latch_users (email);

CREATE TABLE latch_sessions (
	id            TEXT    PRIMARY KEY,
	user_id       TEXT    NOT NULL,
	token_hash    BLOB    NOT NULL UNIQUE,
	remember_hash BLOB    UNIQUE,           -- NULL: not remembered
	remember      INTEGER NOT NULL,         -- 0 or 1
	fresh         INTEGER NOT NULL,         -- 0 or 1
	created_at    INTEGER NOT NULL,
	last_seen_at  INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	ip            TEXT    NOT NULL,
	user_agent    TEXT    NOT NULL
) STRICT;

CREATE INDEX latch_sessions_user_id ON latch_sessions (user_id);
CREATE INDEX latch_sessions_expires_at ON latch_sessions (expires_at);

CREATE TABLE latch_login_failures (
	key          TEXT    PRIMARY KEY,
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE latch_login_failures;
DROP TABLE latch_sessions;
DROP TABLE latch_users;
