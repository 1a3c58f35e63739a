//go:build unix && !linux

package hashworker

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// LowerPriority sets this process's nice value to Nice, for a worker to
// call first thing. Outside Linux a nice value belongs to the process.
func LowerPriority() error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, 0, Nice)
}
