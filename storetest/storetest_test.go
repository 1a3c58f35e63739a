package storetest_test

import (
	"testing"

	"github.com/latchauth/latch/memstore"
	"github.com/latchauth/latch/storetest"
	"github.com/latchauth/latch/throttle"
)

func TestMemstoreSessions(t *testing.T) {
	storetest.Sessions(t, new(memstore.Store))
}

func TestMemstoreTokens(t *testing.T) {
	storetest.Tokens(t, new(memstore.Tokens))
}

func TestMemoryThrottle(t *testing.T) {
	storetest.Throttle(t, new(throttle.MemoryStore))
}

// TestReuse runs the suite twice on one store, as a store's tests may do with
// a shared database.
func TestReuse(t *testing.T) {
	s := new(memstore.Store)
	storetest.Sessions(t, s)
	storetest.Sessions(t, s)
	m := new(throttle.MemoryStore)
	storetest.Throttle(t, m)
	storetest.Throttle(t, m)
}

func TestMemstoreMailQueue(t *testing.T) {
	storetest.MailQueue(t, new(memstore.MailQueue))
}

func TestMemoryDevices(t *testing.T) {
	storetest.Devices(t, new(throttle.MemoryStore))
}
