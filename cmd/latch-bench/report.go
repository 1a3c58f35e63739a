package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// result is the figures of one load in one scenario.
type result struct {
	Scenario  string      `json:"scenario"`
	Conns     int         `json:"connections,omitempty"`
	Seconds   float64     `json:"seconds,omitempty"`
	OK        int         `json:"ok"`
	RPS       float64     `json:"per_second"`
	P50       float64     `json:"p50_ms"`
	P99       float64     `json:"p99_ms"`
	Max       float64     `json:"max_ms"`
	Busy      int         `json:"busy_503"`
	Wrong     int         `json:"wrong_answers"`
	Errors    int         `json:"errors"`
	Statuses  map[int]int `json:"statuses,omitempty"`
	PeakRSS   int64       `json:"peak_rss_bytes"`
	ServerCPU float64     `json:"server_cpu_cores"`
	ClientCPU float64     `json:"client_cpu_cores"`
	// SrvOthers and GenOthers are the shares of the server's and the load
	// generator's CPUs that other programs used meanwhile: the
	// measurement is disturbed when they are not near zero.
	SrvOthers  float64 `json:"server_cpu_others"`
	GenOthers  float64 `json:"generator_cpu_others"`
	FirstError string  `json:"first_error,omitempty"`
	Alive      *bool   `json:"alive,omitempty"`
	Err        string  `json:"error,omitempty"`
}

// check is one target and whether the run met it.
type check struct {
	Target string `json:"target"`
	Value  string `json:"value"`
	Pass   bool   `json:"pass"`
}

// machine describes where the figures come from.
type machine struct {
	CPUModel  string `json:"cpu_model"`
	CPUs      int    `json:"cpus"`
	Memory    string `json:"memory"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Pinning   string `json:"pinning"`
	ServerCPU int    `json:"server_cpu"`
	ClientCPU int    `json:"client_cpu"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if mem := procField("/proc/meminfo", "MemTotal"); mem != "" {
		var kb int64
		fmt.Sscanf(mem, "%d", &kb)
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (b *bench) find(scenario string) (result, bool) {
	for _, r := range b.results {
		if r.Scenario == scenario && r.Err == "" {
			return r, true
		}
	}
	return result{}, false
}

// Targets, from the issue.
const (
	homeVsHello     = 0.70
	profileVsHMAC   = 0.50
	profileP99Ratio = 2.0
	hashVsArgon2    = 0.90
	profileRSS      = 64_000_000
	stormRSS        = 300_000_000
	stormP99Ratio   = 3.0
)

// judge checks the results against the targets.
func (b *bench) judge() {
	add := func(target, value string, pass bool) {
		b.checks = append(b.checks, check{Target: target, Value: value, Pass: pass})
	}
	hello, haveHello := b.find("ref-hello")
	hm, haveHMAC := b.find("ref-hmac")
	a2, haveArgon2 := b.find("argon2id")
	if r, ok := b.find("home"); ok && haveHello {
		q := r.RPS / hello.RPS
		add(fmt.Sprintf("home req/s >= %.0f%% of ref-hello", homeVsHello*100), pct(q), q >= homeVsHello)
	}
	if r, ok := b.find("profile"); ok {
		if haveHMAC {
			q := r.RPS / hm.RPS
			add(fmt.Sprintf("profile req/s >= %.0f%% of ref-hmac", profileVsHMAC*100), pct(q), q >= profileVsHMAC)
			q = r.P99 / hm.P99
			add(fmt.Sprintf("profile p99 <= %.0fx ref-hmac's", profileP99Ratio), fmt.Sprintf("%.2fx", q), q <= profileP99Ratio)
		}
		add(fmt.Sprintf("profile peak RSS < %s", mb(profileRSS)), mb(r.PeakRSS), r.PeakRSS < profileRSS)
	}
	for _, s := range []string{"login", "signup"} {
		if r, ok := b.find(s); ok && haveArgon2 {
			q := r.RPS / a2.RPS
			add(fmt.Sprintf("%s/s >= %.0f%% of raw argon2id", s, hashVsArgon2*100), pct(q), q >= hashVsArgon2)
		}
	}
	before, ok1 := b.find("storm: profile, before")
	during, ok2 := b.find("storm: profile, during")
	logins, ok3 := b.find("storm: logins")
	if ok1 && ok2 && ok3 {
		alive := during.Alive != nil && *during.Alive
		add("storm: latch alive and healthy after it", fmt.Sprint(alive), alive)
		add(fmt.Sprintf("storm: peak RSS < %s", mb(stormRSS)), mb(logins.PeakRSS), logins.PeakRSS < stormRSS)
		q := during.P99 / before.P99
		add(fmt.Sprintf("storm: profile p99 <= %.0fx its p99 before", stormP99Ratio), fmt.Sprintf("%.2fx", q), q <= stormP99Ratio)
		failed := during.Busy + during.Wrong + during.Errors
		add("storm: every profile load answered 200", fmt.Sprintf("%d failed", failed), failed == 0 && during.OK > 0)
	}
	if isPostgres(b.dbURL) {
		b.notes = append(b.notes, "PostgreSQL's own processes are not pinned: they run on either CPU and count among the \"others\".")
	}
	// Others on the server's CPU take from the server; on the
	// generator's, they matter only when it is short of CPU.
	var disturbed []string
	for _, r := range b.results {
		if r.SrvOthers > 0.05 || (r.GenOthers > 0.05 && r.ClientCPU+r.GenOthers > 0.9) {
			disturbed = append(disturbed, r.Scenario)
		}
	}
	if len(disturbed) > 0 {
		b.notes = append(b.notes, fmt.Sprintf("Other programs took CPU time from the server or a busy load generator "+
			"during %s (columns \"others\"): those figures are disturbed; run again on a quiet machine.", strings.Join(disturbed, ", ")))
	}
	for _, r := range b.results {
		if strings.HasPrefix(r.Scenario, "ref-") || r.Scenario == "argon2id" || r.Scenario == "storm: logins" || r.Err != "" {
			continue
		}
		if n := r.Busy + r.Wrong + r.Errors; n > 0 {
			b.notes = append(b.notes, fmt.Sprintf("%s: %d requests failed (503: %d, other: %d, no answer: %d); first: %s",
				r.Scenario, n, r.Busy, r.Wrong, r.Errors, r.FirstError))
		}
	}
}

// versus says how a result compares to its reference, for the table.
func (b *bench) versus(r result) string {
	ratio := func(ref string) (result, bool) {
		x, ok := b.find(ref)
		return x, ok && x.RPS > 0
	}
	switch r.Scenario {
	case "home":
		if x, ok := ratio("ref-hello"); ok {
			return pct(r.RPS/x.RPS) + " of ref-hello"
		}
	case "profile":
		if x, ok := ratio("ref-hmac"); ok {
			return fmt.Sprintf("%s of ref-hmac, p99 %.2fx", pct(r.RPS/x.RPS), r.P99/x.P99)
		}
	case "login", "signup":
		if x, ok := ratio("argon2id"); ok {
			return pct(r.RPS/x.RPS) + " of argon2id"
		}
	case "storm: profile, during":
		if x, ok := b.find("storm: profile, before"); ok && x.P99 > 0 {
			return fmt.Sprintf("p99 %.2fx before", r.P99/x.P99)
		}
	case "storm: logins":
		s := fmt.Sprintf("%d refused (503)", r.Busy)
		if x, ok := ratio("argon2id"); ok {
			s = pct(r.RPS/x.RPS) + " of argon2id, " + s
		}
		return s
	}
	return ""
}

func (b *bench) settings() string {
	return fmt.Sprintf("%s per scenario after %s warm-up, %d connections; store: %s; latch -log-level %s%s",
		b.cfg.duration, b.cfg.warmup, b.cfg.connections, b.storeName(), b.cfg.logLevel, strings.Join(append([]string{""}, b.cfg.latchArgs...), " "))
}

func (b *bench) writeTable(w io.Writer) {
	m := b.machine
	fmt.Fprintf(w, "latch-bench: %s\n", b.settings())
	fmt.Fprintf(w, "machine: %s, %d CPUs, %s, %s, %s\n", m.CPUModel, m.CPUs, m.Memory, m.Kernel, m.Go)
	fmt.Fprintf(w, "pinning: %s\n\n", m.Pinning)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tconns\tper s\tp50\tp99\tpeak RSS\tCPU server (others)\tCPU generator (others)\tfailed\tvs reference\t")
	for _, r := range b.results {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\terror: %s\t\n", r.Scenario, firstLine(r.Err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%.0f%% (%.0f%%)\t%.0f%% (%.0f%%)\t%d\t%s\t\n", r.Scenario, r.Conns, r.RPS,
			dur(r.P50), dur(r.P99), mb(r.PeakRSS), r.ServerCPU*100, r.SrvOthers*100, r.ClientCPU*100, r.GenOthers*100,
			r.Busy+r.Wrong+r.Errors, b.versus(r))
	}
	tw.Flush()
	if len(b.checks) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "target\tvalue\tresult\t")
		for _, c := range b.checks {
			verdict := "FAIL"
			if c.Pass {
				verdict = "PASS"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", c.Target, c.Value, verdict)
		}
		tw.Flush()
	}
	for _, n := range b.notes {
		fmt.Fprintf(w, "\nnote: %s\n", n)
	}
}

func (b *bench) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Machine  machine  `json:"machine"`
		Settings string   `json:"settings"`
		Results  []result `json:"results"`
		Checks   []check  `json:"checks"`
		Notes    []string `json:"notes,omitempty"`
	}{b.machine, b.settings(), b.results, b.checks, b.notes})
}

func pct(q float64) string { return fmt.Sprintf("%.0f%%", q*100) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// dur formats milliseconds for the table.
func dur(msec float64) string {
	d := time.Duration(msec * float64(time.Millisecond))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0fms", msec)
	default:
		return fmt.Sprintf("%.2fms", msec)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
