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
// consults a [throttle.Policy] first: a browser with a device cookie for
// the account is throttled on its own, any other attempt on the account
// across all addresses and on its client address across all accounts.
//
// An application that keeps its users itself gets the same checks from an
// [Authenticator]: it gives a function that looks a login up in its own
// table and returns the user's ID and password hash, and, to replace
// outdated hashes, one that stores a new hash. Service.Authenticate is an
// Authenticator over the Store, so both follow one sequence.
package account
