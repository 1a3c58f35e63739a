-- The users whose password hash is in a format other than argon2id, indexed
-- alone: every login with such a hash replaces it, so the index stays small,
-- and the store reports the formats in use from it without reading the whole
-- table. It is keyed by id, so that an import appends to it instead of
-- writing all over a B-tree of hashes; logins with argon2id hashes do not
-- write to it at all.

-- +goose Up
CREATE INDEX latch_users_legacy_hash ON latch_users (id)
	WHERE password_hash NOT LIKE '$argon2id$%';

-- +goose Down
DROP INDEX latch_users_legacy_hash;
