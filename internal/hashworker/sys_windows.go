package hashworker

import (
	"syscall"

	"golang.org/x/sys/windows"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// LowerPriority puts this process in the below-normal priority class,
// Windows' counterpart of a nice value, for a worker to call first thing.
func LowerPriority() error {
	return windows.SetPriorityClass(windows.CurrentProcess(), windows.BELOW_NORMAL_PRIORITY_CLASS)
}
