package hashworker

import (
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr makes a worker receive SIGKILL when the thread that started
// it ends, so that no worker outlives a server killed with SIGKILL. Go ends
// a thread only when a goroutine locked to it returns, and the pool's
// goroutines lock none.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// LowerPriority sets the nice value of every thread of this process to Nice,
// for a worker to call first thing. On Linux a nice value belongs to a
// thread, and a new thread inherits its creator's; the Go runtime has
// already started a few threads by the time main runs, so each is set, and
// the list is read again until no new one appears.
func LowerPriority() error {
	done := map[int]bool{}
	for {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh = true
			// A thread that ended meanwhile is not an error.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, Nice); err != nil && err != syscall.ESRCH {
				return err
			}
			done[tid] = true
		}
		if !fresh {
			return nil
		}
	}
}
