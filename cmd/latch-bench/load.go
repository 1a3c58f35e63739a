package main

import (
	"slices"
	"sync"
	"time"
)

// window is when a scenario runs: requests complete from start on, those
// completing before measureFrom warm the server up and are not counted, and
// at end every connection's deadline cuts what is still in flight.
type window struct {
	start, measureFrom, end time.Time
}

func newWindow(warmup, duration time.Duration) window {
	start := time.Now()
	return window{start: start, measureFrom: start.Add(warmup), end: start.Add(warmup + duration)}
}

func (w window) measured() time.Duration { return w.end.Sub(w.measureFrom) }

// outcome is what one request of a virtual user came to.
type outcome struct {
	// ok means the server answered as it should: the request counts in
	// the throughput and the latency figures.
	ok bool
	// status is the HTTP status, zero when there was no response.
	status int
	// err is a transport error, or why the answer was wrong.
	err error
	// pause is how long the virtual user waits before its next request,
	// for instance as a 503's Retry-After asks.
	pause time.Duration
}

// step sends one request as virtual user i on its connection c. Its n-th
// call for a user has n = 0, 1, 2...
type step func(i, n int, c *client) outcome

// tally is the outcome of a load: counts and the latencies of the requests
// answered as they should be, completed in the measured part of the window.
type tally struct {
	latencies []time.Duration
	ok        int
	busy      int // refused: 503 Service Unavailable or 429 Too Many Requests
	wrong     int // any other unexpected answer
	errs      int // no answer: connection refused, reset, timeout
	statuses  map[int]int
	firstErr  string
}

func (t *tally) add(u *tally) {
	t.latencies = append(t.latencies, u.latencies...)
	t.ok += u.ok
	t.busy += u.busy
	t.wrong += u.wrong
	t.errs += u.errs
	for s, n := range u.statuses {
		t.statuses[s] += n
	}
	if t.firstErr == "" {
		t.firstErr = u.firstErr
	}
}

// refused reports whether status is latch refusing a request for now, to
// be tried again after Retry-After: 503 when the hashing queue is full,
// 429 when logins are throttled.
func refused(status int) bool {
	return status == 503 || status == 429
}

// runLoad runs conns virtual users, each on its own keep-alive connection to
// addr, each sending a request as soon as the previous one is answered
// (after its pause), until the window ends.
func runLoad(addr string, conns int, w window, s step) *tally {
	total := &tally{statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			t := &tally{statuses: map[int]int{}}
			c := &client{addr: addr, deadline: w.end}
			defer c.close()
			for n := 0; ; n++ {
				if !time.Now().Before(w.end) {
					break
				}
				t0 := time.Now()
				o := s(i, n, c)
				t1 := time.Now()
				if !t1.Before(w.end) {
					break // cut by the end of the window
				}
				if !t1.Before(w.measureFrom) {
					switch {
					case o.ok:
						t.ok++
						t.latencies = append(t.latencies, t1.Sub(t0))
					case refused(o.status):
						t.busy++
					case o.status != 0:
						t.wrong++
					default:
						t.errs++
					}
					if o.status != 0 {
						t.statuses[o.status]++
					}
					if !o.ok && !refused(o.status) && o.err != nil && t.firstErr == "" {
						t.firstErr = o.err.Error()
					}
				}
				pause := o.pause
				if o.err != nil && o.status == 0 {
					pause = max(pause, 10*time.Millisecond) // do not spin on a refused connection
				}
				if pause > 0 {
					time.Sleep(min(pause, time.Until(w.end)))
				}
			}
			mu.Lock()
			total.add(t)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(total.latencies)
	return total
}

// percentile returns the q-quantile (0 < q <= 1) of sorted latencies: the
// smallest value at least a fraction q of them do not exceed.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
