package password

import "golang.org/x/sys/unix"

// lowerPriority gives the calling thread the lowest scheduling priority
// (nice 19). It is best effort: hashing works the same if it fails.
func lowerPriority() {
	unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
