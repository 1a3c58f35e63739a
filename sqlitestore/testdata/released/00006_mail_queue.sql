-- Outgoing mail waiting to be sent: see package mailer. A message is due
-- when due_at is at or before the present; a claim moves due_at to the end
-- of its lease, a failed attempt to the time of the next one.

-- +goose Up
CREATE TABLE latch_mail_queue (
	id         TEXT    PRIMARY KEY,
	recipient  TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	text_body  TEXT    NOT NULL,
	html_body  TEXT    NOT NULL, -- empty: text only
	created_at INTEGER NOT NULL,
	due_at     INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	last_error TEXT    NOT NULL  -- empty: no failed attempt
) STRICT;

-- Claims read the earliest due messages.
CREATE INDEX latch_mail_queue_due_at ON latch_mail_queue (due_at);

-- +goose Down
DROP TABLE latch_mail_queue;
