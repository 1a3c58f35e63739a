-- Outgoing mail waiting to be sent: see package mailer. A message is due
-- when due_at is at or before the present; a claim moves due_at to the end
-- of its lease, a failed attempt to the time of the next one.

-- +goose Up
CREATE TABLE latch_mail_queue (
	id         text        PRIMARY KEY,
	recipient  text        NOT NULL,
	subject    text        NOT NULL,
	text_body  text        NOT NULL,
	html_body  text        NOT NULL, -- empty: text only
	created_at timestamptz NOT NULL,
	due_at     timestamptz NOT NULL,
	attempts   integer     NOT NULL,
	last_error text        NOT NULL  -- empty: no failed attempt
);

-- Claims read the earliest due messages.
CREATE INDEX latch_mail_queue_due_at ON latch_mail_queue (due_at);

-- +goose Down
DROP TABLE latch_mail_queue;
