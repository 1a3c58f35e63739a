package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as a hashing worker, as latch does
// for itself with `latch hash-worker`, for the servers tests run in process.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "hash-worker" {
		os.Exit(hashWorker(os.Stderr))
	}
	os.Exit(m.Run())
}
