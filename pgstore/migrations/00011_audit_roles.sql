-- The audit log: each user's security events, append-only, read newest
-- first a page at a time; and the roles and disabled state of users, read
-- with the user.

-- +goose Up
CREATE TABLE latch_audit_events (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- pages are keyed on it
	user_id    text        NOT NULL,                                 -- '' when no account matched
	kind       text        NOT NULL,
	reason     text        NOT NULL,
	actor_id   text        NOT NULL,
	at         timestamptz NOT NULL,
	ip         text        NOT NULL,
	device     text        NOT NULL,
	session_id text        NOT NULL
);

CREATE INDEX latch_audit_events_user_id ON latch_audit_events (user_id, id); -- a page costs its size
CREATE INDEX latch_audit_events_at ON latch_audit_events (at);               -- for pruning

CREATE TABLE latch_user_roles (
	user_id bigint NOT NULL REFERENCES latch_users (id) ON DELETE CASCADE,
	role    text   NOT NULL,
	PRIMARY KEY (user_id, role)
);

CREATE TABLE latch_disabled_users (
	user_id     bigint      PRIMARY KEY REFERENCES latch_users (id) ON DELETE CASCADE,
	disabled_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE latch_disabled_users;
DROP TABLE latch_user_roles;
DROP TABLE latch_audit_events;
