package main

import "testing"

// extraBackends lists the server databases available to process tests.
func extraBackends(t *testing.T) []backend { return nil }
