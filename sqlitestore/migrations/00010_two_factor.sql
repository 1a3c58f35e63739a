-- Second factors: authenticator secrets (encrypted by the application),
-- passkeys (public keys),
-- recovery codes and trusted devices (only keyed or plain hashes), and
-- resets of the factors asked for by email, due after a wait.

-- +goose Up
CREATE TABLE latch_totp (
	user_id    INTEGER PRIMARY KEY,
	sealed     BLOB    NOT NULL, -- AES-GCM: nonce, then ciphertext
	last_step  INTEGER NOT NULL, -- last 30-second step accepted; never again
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE latch_recovery_codes (
	user_id    INTEGER NOT NULL,
	hash       BLOB    NOT NULL, -- HMAC-SHA-256 of the code
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE latch_trusted_devices (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL,
	hash       BLOB    NOT NULL UNIQUE, -- SHA-256 of the cookie's token
	label      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX latch_trusted_devices_user_id ON latch_trusted_devices (user_id);

CREATE TABLE latch_passkeys (
	id              TEXT    PRIMARY KEY,
	user_id         INTEGER NOT NULL,
	credential_id   BLOB    NOT NULL UNIQUE,
	public_key      BLOB    NOT NULL, -- COSE
	sign_count      INTEGER NOT NULL,
	backup_eligible INTEGER NOT NULL, -- 0 or 1
	backed_up       INTEGER NOT NULL, -- 0 or 1
	transports      TEXT    NOT NULL, -- comma-separated
	name            TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	last_used_at    INTEGER           -- NULL: never
) STRICT;

CREATE INDEX latch_passkeys_user_id ON latch_passkeys (user_id);

CREATE TABLE latch_factor_resets (
	user_id      INTEGER PRIMARY KEY,
	requested_at INTEGER NOT NULL,
	due_at       INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE latch_passkeys;
DROP TABLE latch_factor_resets;
DROP TABLE latch_trusted_devices;
DROP TABLE latch_recovery_codes;
DROP TABLE latch_totp;
