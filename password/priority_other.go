//go:build !linux

package password

// lowerPriority does nothing where threads have no priority of their own
// that latch knows how to set.
func lowerPriority() {}
