-- Fewer B-trees written by a login. Every B-tree a write changes costs a
-- page in the write-ahead log, and each page two system calls.
--
-- sessions: remember_hash was UNIQUE in the table's definition, which
-- indexes every session, those without remember-me too (NULL). The unique
-- indexes of both remember-me hashes now hold only the sessions that have
-- one: a login without remember-me writes 5 B-trees instead of 7. SQLite
-- cannot drop a constraint of a table's definition, so the table is built
-- again, with the same columns in the same order.
--
-- login_failures: a table keyed by its key alone (WITHOUT ROWID) is one
-- B-tree instead of two, the table and the index of its key.

-- +goose Up
CREATE TABLE latch_sessions_new (
	id                 TEXT    PRIMARY KEY,
	user_id            TEXT    NOT NULL,
	token_hash         BLOB    NOT NULL UNIQUE,
	remember_hash      BLOB,             -- NULL: not remembered
	remember           INTEGER NOT NULL, -- 0 or 1
	fresh              INTEGER NOT NULL, -- 0 or 1
	created_at         INTEGER NOT NULL,
	last_seen_at       INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL,
	ip                 TEXT    NOT NULL,
	user_agent         TEXT    NOT NULL,
	prev_remember_hash BLOB,             -- NULL: never rotated
	rotated_at         INTEGER           -- NULL: never rotated
) STRICT;
INSERT INTO latch_sessions_new (id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at)
	SELECT id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at
	FROM latch_sessions;
DROP TABLE latch_sessions;
ALTER TABLE latch_sessions_new RENAME TO latch_sessions;
CREATE INDEX latch_sessions_user_id ON latch_sessions (user_id);
CREATE INDEX latch_sessions_expires_at ON latch_sessions (expires_at);
CREATE UNIQUE INDEX latch_sessions_remember_hash ON latch_sessions (remember_hash) WHERE remember_hash IS NOT NULL;
CREATE UNIQUE INDEX latch_sessions_prev_remember_hash ON latch_sessions (prev_remember_hash) WHERE prev_remember_hash IS NOT NULL;

CREATE TABLE latch_login_failures_new (
	key          TEXT    PRIMARY KEY,
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO latch_login_failures_new (key, failures, last_failure)
	SELECT key, failures, last_failure FROM latch_login_failures;
DROP TABLE latch_login_failures;
ALTER TABLE latch_login_failures_new RENAME TO latch_login_failures;

-- +goose Down
CREATE TABLE latch_login_failures_old (
	key          TEXT    PRIMARY KEY,
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT;
INSERT INTO latch_login_failures_old (key, failures, last_failure)
	SELECT key, failures, last_failure FROM latch_login_failures;
DROP TABLE latch_login_failures;
ALTER TABLE latch_login_failures_old RENAME TO latch_login_failures;

CREATE TABLE latch_sessions_old (
	id            TEXT    PRIMARY KEY,
	user_id       TEXT    NOT NULL,
	token_hash    BLOB    NOT NULL UNIQUE,
	remember_hash BLOB    UNIQUE,
	remember      INTEGER NOT NULL,
	fresh         INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	last_seen_at  INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL,
	ip            TEXT    NOT NULL,
	user_agent    TEXT    NOT NULL,
	prev_remember_hash BLOB,
	rotated_at    INTEGER
) STRICT;
INSERT INTO latch_sessions_old (id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at)
	SELECT id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent, prev_remember_hash, rotated_at
	FROM latch_sessions;
DROP TABLE latch_sessions;
ALTER TABLE latch_sessions_old RENAME TO latch_sessions;
CREATE INDEX latch_sessions_user_id ON latch_sessions (user_id);
CREATE INDEX latch_sessions_expires_at ON latch_sessions (expires_at);
CREATE UNIQUE INDEX latch_sessions_prev_remember_hash ON latch_sessions (prev_remember_hash);
