//go:build !linux

package hashworker_test

import "testing"

func workerPIDs(t *testing.T) []int {
	t.Skip("finding worker processes needs Linux's /proc")
	return nil
}

func niceOf(t *testing.T, stat string) int {
	t.Skip("reading nice values needs Linux's /proc")
	return 0
}

func syscallKill(pid int) error { return nil }
