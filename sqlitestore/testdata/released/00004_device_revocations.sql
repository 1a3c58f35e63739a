-- When each user's device cookies were last revoked (a password reset, "log
-- out everywhere"): cookies issued at or before revoked_at (microseconds
-- since 1970) are no longer valid. user_id is the user as the cookies name
-- it. A user never revoked has no row.

-- +goose Up
CREATE TABLE latch_device_revocations (
	user_id    TEXT    PRIMARY KEY,
	revoked_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE latch_device_revocations;
