-- When each user's device cookies were last revoked (a password reset, "log
-- out everywhere"): cookies issued at or before revoked_at are no longer
-- valid. user_id is the user as the cookies name it. A user never revoked
-- has no row.

-- +goose Up
CREATE TABLE latch_device_revocations (
	user_id    text        PRIMARY KEY,
	revoked_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE latch_device_revocations;
