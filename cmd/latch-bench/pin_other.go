//go:build !linux

package main

import "errors"

// pin is only implemented on Linux; elsewhere the processes share the CPUs
// and the report says so.
func pin(pid, cpu int) error {
	return errors.New("pinning to a CPU is only implemented on Linux")
}
