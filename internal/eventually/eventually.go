// Package eventually waits in tests for a condition that another process or
// goroutine makes true after a while, such as a cache hearing of a change.
package eventually

import (
	"testing"
	"time"
)

// True calls check until it returns nil, and fails t with check's last
// error, prefixed with what, if that has not happened within d.
func True(t testing.TB, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: still %v after %v", what, err, d)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
