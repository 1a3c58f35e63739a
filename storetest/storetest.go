// Package storetest checks implementations of latch's store contracts.
//
// A store package runs the suite from its own tests:
//
//	func TestStore(t *testing.T) {
//		db := openTestDB(t)
//		storetest.Sessions(t, db)
//		storetest.Users(t, db)
//		storetest.Throttle(t, db)
//		storetest.MailQueue(t, db)
//		storetest.Factors(t, db)
//	}
//
// Each function runs subtests and reports every misbehaviour it finds rather
// than stopping at the first. Records are made with random identifiers,
// emails and keys, so one store may be checked by several functions, by
// several runs, and alongside other data; the suite removes what it created
// when it can, but never assumes the store is empty.
//
// Times are compared at microsecond precision, the finest that SQL databases
// commonly keep, and by instant, whatever the location they come back in. The
// suite only writes times already at microsecond precision, so a store may
// truncate or round.
package storetest

import (
	"crypto/rand"
	"strings"
	"time"
)

// randomID returns a random string suitable for identifiers, emails and
// keys, unique with overwhelming probability.
func randomID() string {
	return strings.ToLower(rand.Text())
}

// randomHash returns 32 random bytes, the size of a SHA-256 hash.
func randomHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// zone is a location other than UTC and Local, so that a store which keeps
// wall-clock fields instead of instants is caught.
var zone = time.FixedZone("UTC+5:30", 5*3600+30*60)

// baseTime returns the current time at microsecond precision in zone.
func baseTime() time.Time {
	return time.Now().Truncate(time.Microsecond).In(zone)
}

// sameTime reports whether a and b are the same instant at microsecond
// precision.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// formatTime formats t in UTC for failure messages; the zero time is shown
// as such.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
