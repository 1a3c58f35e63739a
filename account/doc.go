// Package account holds latch's user accounts: the [User] record, the [Store]
// contract every database implements, and the [Service] that signs users up
// and checks their passwords.
//
// The Service is where the account rules live, so that the web app and the
// command line apply the same ones: emails are trimmed, lower-cased and
// unique; names are required and bounded; passwords have a minimum length,
// a maximum length (never truncated), and must not be on a list of 30,000
// common passwords.
//
// [Service.Authenticate] answers [ErrBadCredentials] for an unknown email and
// for a wrong password alike, after the same amount of hashing work, so
// neither the message nor the time tells which emails have accounts. It
// consults two [throttle.Limiter]s first: one keyed by account and client
// address, one by client address alone with higher thresholds, against one
// password tried on many accounts.
package account
