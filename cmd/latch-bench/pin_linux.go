//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pin binds every thread of process pid (0: this process) to cpu. The
// kernel's affinity call applies to one thread; threads started later
// inherit the binding of the thread that starts them, so binding all the
// threads there are now binds the process for good. Two passes catch a
// thread started during the first.
func pin(pid, cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	dir := "/proc/self/task"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/task"
	}
	for range 2 {
		tasks, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("pin to CPU %d: %w", cpu, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// A thread may have ended since the listing.
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin to CPU %d: %w", cpu, err)
			}
		}
	}
	return nil
}
