-- Second factors: authenticator secrets (encrypted by the application),
-- passkeys (public keys),
-- recovery codes and trusted devices (only keyed or plain hashes), and
-- resets of the factors asked for by email, due after a wait.

-- +goose Up
CREATE TABLE latch_totp (
	user_id    bigint PRIMARY KEY,
	sealed     bytea  NOT NULL, -- AES-GCM: nonce, then ciphertext
	last_step  bigint NOT NULL, -- last 30-second step accepted; never again
	created_at timestamptz NOT NULL
);

CREATE TABLE latch_recovery_codes (
	user_id    bigint NOT NULL,
	hash       bytea  NOT NULL, -- HMAC-SHA-256 of the code
	created_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE latch_trusted_devices (
	id         text   PRIMARY KEY,
	user_id    bigint NOT NULL,
	hash       bytea  NOT NULL UNIQUE, -- SHA-256 of the cookie's token
	label      text   NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX latch_trusted_devices_user_id ON latch_trusted_devices (user_id);

CREATE TABLE latch_passkeys (
	id              text        PRIMARY KEY,
	user_id         bigint      NOT NULL,
	credential_id   bytea       NOT NULL UNIQUE,
	public_key      bytea       NOT NULL, -- COSE
	sign_count      bigint      NOT NULL,
	backup_eligible boolean     NOT NULL,
	backed_up       boolean     NOT NULL,
	transports      text        NOT NULL, -- comma-separated
	name            text        NOT NULL,
	created_at      timestamptz NOT NULL,
	last_used_at    timestamptz           -- NULL: never
);

CREATE INDEX latch_passkeys_user_id ON latch_passkeys (user_id);

CREATE TABLE latch_factor_resets (
	user_id      bigint PRIMARY KEY,
	requested_at timestamptz NOT NULL,
	due_at       timestamptz NOT NULL
);

-- +goose Down
DROP TABLE latch_passkeys;
DROP TABLE latch_factor_resets;
DROP TABLE latch_trusted_devices;
DROP TABLE latch_recovery_codes;
DROP TABLE latch_totp;
