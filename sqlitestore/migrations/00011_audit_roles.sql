-- The audit log: each user's security events, append-only, read newest
-- first a page at a time; and the roles and disabled state of users, read
-- with the user.

-- +goose Up
CREATE TABLE latch_audit_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: pages are keyed on it
	user_id    TEXT    NOT NULL,                  -- '' when no account matched
	kind       TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	actor_id   TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	ip         TEXT    NOT NULL,
	device     TEXT    NOT NULL,
	session_id TEXT    NOT NULL
) STRICT;

CREATE INDEX latch_audit_events_user_id ON latch_audit_events (user_id, id); -- a page costs its size
CREATE INDEX latch_audit_events_at ON latch_audit_events (at);               -- for pruning

CREATE TABLE latch_user_roles (
	user_id INTEGER NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE, -- a reused ID gets no roles
	role    TEXT    NOT NULL,
	PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;

CREATE TABLE latch_disabled_users (
	user_id     INTEGER PRIMARY KEY REFERENCES latch_users (id) ON DELETE CASCADE,
	disabled_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE latch_disabled_users;
DROP TABLE latch_user_roles;
DROP TABLE latch_audit_events;
