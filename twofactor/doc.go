// Package twofactor keeps and checks second factors: authenticator-app codes
// (TOTP), recovery codes, trusted devices that skip the second step for a
// while, and resets of the factors asked for by email after a wait. Its
// [Store] also keeps passkeys ([Passkey]); their WebAuthn ceremonies are
// the application's, with a WebAuthn library.
//
// It checks factors; [github.com/latchauth/latch] carries the login between
// the password and the factor (see [github.com/latchauth/latch.LoginOptions]
// Partial). The application throttles attempts, as it does for passwords.
//
// # Authenticator codes
//
// Codes follow RFC 6238 as every authenticator app expects them by default:
// HMAC-SHA-1, 6 digits, 30-second steps. [Service.CheckTOTP] accepts one step
// of drift each way and every step at most once: the store keeps the last
// step accepted and moves it forward with a compare-and-set, so a code seen
// over a shoulder or replayed from a log is refused, and of two requests
// racing with one code exactly one is accepted. The shared secret is stored
// encrypted with AES-256-GCM under a key derived with HKDF from the
// application's secret key and bound to the user's ID.
//
// # Recovery codes
//
// [Service.NewRecoveryCodes] makes 10 single-use codes and returns them to
// be shown once. The store keeps only an HMAC of each, under another key
// derived from the secret key, and removes a code when it is used, in one
// statement.
package twofactor
