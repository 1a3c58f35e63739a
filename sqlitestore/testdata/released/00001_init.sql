-- Times are INTEGER microseconds since the Unix epoch, UTC; see the package
-- documentation. Tables are STRICT so that a value of the wrong type is an
-- error rather than silently stored.

-- +goose Up
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused after a delete
	email         TEXT    NOT NULL,                  -- normalised by the caller
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_login_at INTEGER                            -- NULL: never logged in
) STRICT;

-- The only unique constraint on users besides the key: a unique violation
-- when inserting a user means the email is taken.
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE sessions (
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

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE login_failures (
	key          TEXT    PRIMARY KEY,
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
