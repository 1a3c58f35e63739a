// Package password hashes and verifies passwords for latch.
//
// New passwords are hashed with argon2id by a [Hasher]; stored hashes from
// other systems are verified as they are, so users imported from a Flask or
// Django application keep their passwords, and are upgraded to argon2id the
// next time they log in:
//
//	ok, rehash, err := h.Verify(ctx, user.Hash, password)
//	if err != nil { ... }            // ErrBusy: answer 503 with Retry-After
//	if !ok { ... }                   // one "bad credentials" answer
//	if rehash {
//		user.Hash, err = h.Hash(ctx, password)
//		...
//	}
//
// # Formats
//
// [Hasher.Verify] and [Identify] accept these formats, exactly as the named
// libraries write them:
//
//   - argon2id: the PHC string $argon2id$v=19$m=...,t=...,p=...$salt$key,
//     written by this package, libargon2, argon2-cffi and most others.
//   - werkzeug-sha256: sha256$salt$hex, HMAC-SHA256 keyed by the salt
//     (Werkzeug before 2.3, method="sha256").
//   - werkzeug-pbkdf2: pbkdf2:sha256:iterations$salt$hex, Werkzeug's default
//     before 3.0.
//   - werkzeug-scrypt: scrypt:n:r:p$salt$hex, Werkzeug's default since 3.0.
//   - django-pbkdf2_sha256: pbkdf2_sha256$iterations$salt$base64, Django's
//     default hasher.
//   - django-argon2: argon2$argon2id$..., Django's Argon2PasswordHasher.
//   - django-bcrypt_sha256: bcrypt_sha256$$2b$..., bcrypt of the hex SHA-256
//     of the password.
//   - bcrypt: $2a$, $2b$ and $2y$.
//
// Every hash is parsed in full and its cost parameters are checked against
// fixed bounds before any hashing (argon2 memory at most 256 MiB, PBKDF2 at
// most 2,000,000 iterations, scrypt at most 256 MiB, bcrypt cost at most 16,
// among others), so a hostile or corrupt stored hash cannot make a login
// allocate gigabytes or spin for minutes. Anything else is [ErrUnknownFormat];
// importers should call [Identify] to refuse such hashes up front.
//
// # Why argon2id with these defaults
//
// Argon2id won the Password Hashing Competition and is memory-hard: each
// guess costs an attacker memory as well as time, which blunts GPUs and
// custom hardware far more than PBKDF2 or bcrypt can. [DefaultParams] are the
// OWASP Password Storage Cheat Sheet's minimum (19 MiB, two passes, one
// thread): some 30 to 50 ms on one server core, a cost a login endpoint can
// afford on every request. Raise them when hardware allows; Verify reports
// rehash for hashes made with other parameters, so stored hashes follow.
//
// # The pool
//
// A hash costs tens of milliseconds and megabytes of memory by design, so an
// unbounded number of concurrent logins would exhaust a server. A Hasher runs
// at most a fixed number of hashes at once and lets a fixed number more wait;
// past that, Hash and Verify return [ErrBusy] immediately, which a handler
// turns into 503 Service Unavailable with a Retry-After header. Waiting calls
// give up when their context is done. Verification of legacy formats goes
// through the same pool: it is CPU work too.
//
// # Length
//
// Passwords are any byte string up to [MaxLength] (1024) bytes, normally
// UTF-8. New hashes are of the password's NFKC form ([Normalize]), so that
// the same password typed as composed or decomposed characters, or with
// full-width letters, is one password; the libraries above hash the bytes as
// typed, so Verify tries both spellings. Longer passwords are refused with [ErrTooLong] before any work, rather than
// truncated or hashed at attacker-chosen cost. Plain bcrypt reads only the
// first 72 bytes of a password, so a bcrypt hash never matches a password
// longer than that: otherwise any password sharing the first 72 bytes would
// log in. Nor does it match a password containing a NUL byte, where C
// implementations of bcrypt stop reading.
//
// The PBKDF2 and scrypt formats key HMAC with the password, and HMAC pads a
// short key with zero bytes and hashes a key longer than its block, so with
// those formats a password followed by NUL bytes, or the raw SHA-256 of a
// password longer than 64 bytes, matches too. This is how PBKDF2 is defined
// and the Python libraries behave the same way; neither gives anything to
// someone who does not already know the password. Argon2id has no such
// equivalents, one more reason to rehash.
//
// # Timing
//
// Digests are compared in constant time (crypto/subtle). To keep response
// times from revealing which accounts exist, callers pass an empty hash to
// Verify when there is no such user: Verify then does a full argon2id
// verification at the Hasher's parameters, the same work as for a real user,
// and reports no match.
//
// Imported hashes cost what their format costs: a werkzeug sha256$ hash is
// checked in microseconds, a bcrypt of cost 12 in a quarter of a second. So
// that a failed login does not tell which users were imported, nor with what,
// [Hasher.WatchStoredHashes] gives a Hasher a floor: every failed
// verification, a wrong password or an unknown user, is answered no sooner
// than a verification of the slowest format and parameters stored would be.
// The floor is a wait after the work, in no hashing slot.
package password
