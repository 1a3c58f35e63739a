package hashworker

import "time"

// SetTimeout shortens p's wait for a worker's answer, for tests.
func SetTimeout(p *Pool, d time.Duration) { p.timeout = d }
