package memstore_test

import (
	"testing"

	"github.com/latchauth/latch/memstore"
	"github.com/latchauth/latch/storetest"
)

func TestStore(t *testing.T) {
	var s memstore.Store
	storetest.Sessions(t, &s)
}

func TestMailQueue(t *testing.T) {
	var q memstore.MailQueue
	storetest.MailQueue(t, &q)
}

func TestAudit(t *testing.T) {
	var a memstore.Audit
	storetest.Audit(t, &a)
}

func TestFactors(t *testing.T) {
	var f memstore.Factors
	storetest.Factors(t, &f)
}
