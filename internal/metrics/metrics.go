// Package metrics measures a running latch for Prometheus: requests by
// route, logins and sign-ups by outcome, throttling, the password-hashing
// queue, store failures, the mail queue and live sessions. It is the one
// package that knows the Prometheus client; the app reports to it through
// app.Metrics.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Counter is what a store tells of its contents at each scrape.
type Counter interface {
	// CountLiveSessions returns how many sessions have not expired at now.
	CountLiveSessions(ctx context.Context, now time.Time) (int, error)
	// CountQueuedMail returns how many messages wait to be sent.
	CountQueuedMail(ctx context.Context) (int, error)
}

// Metrics holds latch's collectors in a registry of its own. Create it with
// [New]; its methods are safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	signups   *prometheus.CounterVec
	throttled *prometheus.CounterVec
	storeErrs prometheus.Counter
	hashWait  prometheus.Histogram
	mailSends *prometheus.CounterVec
}

// New returns the metrics, with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "latch_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_logins_total", Help: "Login attempts by outcome: success, failure, throttled, busy, error.",
		}, []string{"outcome"}),
		signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_signups_total", Help: "Sign-up attempts by outcome: success, failure, throttled, busy, error.",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_throttled_total", Help: "Attempts refused by throttling, by what was attempted: login, signup.",
		}, []string{"event"}),
		storeErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "latch_store_errors_total", Help: "Requests answered 503 because the database failed.",
		}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "latch_hash_wait_seconds", Help: "Time a password hash waited for a free slot, when all were taken.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5},
		}),
		mailSends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_mail_attempts_total", Help: "Attempts to send a mail, by outcome: sent, retry, given_up.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.durations, m.logins, m.signups, m.throttled, m.storeErrs, m.hashWait, m.mailSends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest counts a request answered with status on route, a route
// pattern such as "GET /login", never a raw path, so that the number of
// series stays bounded whatever paths clients ask for.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.durations.WithLabelValues(route).Observe(d.Seconds())
}

// CountAuth counts an authentication event ("login" or "signup") by its
// outcome, and a throttled one also in latch_throttled_total.
func (m *Metrics) CountAuth(event, outcome string) {
	switch event {
	case "login":
		m.logins.WithLabelValues(outcome).Inc()
	case "signup":
		m.signups.WithLabelValues(outcome).Inc()
	default:
		return
	}
	if outcome == "throttled" {
		m.throttled.WithLabelValues(event).Inc()
	}
}

// CountStoreError counts a request that failed because of the database.
func (m *Metrics) CountStoreError() { m.storeErrs.Inc() }

// ObserveHashWait records a password hash's wait for a slot; give it to
// password.Hasher.ObserveWait.
func (m *Metrics) ObserveHashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// ObserveMail counts a mail attempt's outcome; give it to
// mailer.Config.Observe.
func (m *Metrics) ObserveMail(outcome string) { m.mailSends.WithLabelValues(outcome).Inc() }

// WatchHashQueue reports the number of hashes running and waiting, read
// at each scrape.
func (m *Metrics) WatchHashQueue(running, waiting func() int) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_hash_running", Help: "Password hashes being computed."},
			func() float64 { return float64(running()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latch_hash_queue_depth", Help: "Password hashes waiting for a slot."},
			func() float64 { return float64(waiting()) }),
	)
}

// WatchStore reports live sessions and queued mail from c at each scrape.
// A count that fails is left out of that scrape and logged.
func (m *Metrics) WatchStore(c Counter, log *slog.Logger) {
	m.reg.MustRegister(&storeCollector{c: c, log: log})
}

var (
	sessionsDesc = prometheus.NewDesc("latch_live_sessions", "Sessions that have not expired.", nil, nil)
	mailDesc     = prometheus.NewDesc("latch_mail_queue_depth", "Mails waiting in the queue to be sent.", nil, nil)
)

// storeCollector asks the store at scrape time: the counts are of every
// process sharing the database, not of this one.
type storeCollector struct {
	c   Counter
	log *slog.Logger
}

func (s *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- mailDesc
}

// scrapeTimeout bounds the store's counts, so that a slow database cannot
// hold up a scrape past Prometheus's own timeout.
const scrapeTimeout = 2 * time.Second

func (s *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if n, err := s.c.CountLiveSessions(ctx, time.Now()); err != nil {
		s.log.Warn("metrics: count sessions", "error", err)
	} else {
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n))
	}
	if n, err := s.c.CountQueuedMail(ctx); err != nil {
		s.log.Warn("metrics: count queued mail", "error", err)
	} else {
		ch <- prometheus.MustNewConstMetric(mailDesc, prometheus.GaugeValue, float64(n))
	}
}
