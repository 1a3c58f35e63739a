// Command latch-bench measures latch against the limits of the machine it
// runs on. From the repository:
//
//	go run ./cmd/latch-bench                      # SQLite in a temporary folder
//	go run ./cmd/latch-bench -storm               # plus the storm of 500 logins
//	go run ./cmd/latch-bench -database-url 'postgres://...' -storm
//	go run ./cmd/latch-bench -json > bench.json   # figures for machines
//	go run ./cmd/latch-bench -rounds 1            # one round instead of 3: quicker, noisier
//	go run ./cmd/latch-bench -growth              # an empty against a grown database (-growth-users)
//
// It builds cmd/latch, starts it as a child process on a fresh data folder,
// creates users, and drives it over loopback with many keep-alive
// connections for a fixed time per scenario: the anonymous home page, the
// logged-in profile page, logins and sign-ups. For each it reports requests
// per second, the median and 99th percentile latency, and the server's peak
// resident memory (VmHWM).
//
// Absolute figures say more about the machine than about latch, so the same
// run measures references: a hello-world net/http server, a server that
// checks an HMAC-signed session cookie against a map in memory and renders a
// small template, and raw argon2id hashing at latch's parameters. Latch's
// figures are then reported as ratios to those, and checked against targets.
//
// # Method
//
// Every server runs as a child process, so its memory and CPU time are its
// own, pinned to one CPU (-server-cpu, with taskset when installed and
// sched_setaffinity on each thread otherwise). The references run with
// GOMAXPROCS=1; latch with its own choice, which is one on one CPU, and its
// password-hashing worker processes share that CPU. The load
// generator, this process, pins all its threads to another CPU
// (-client-cpu) and runs with GOMAXPROCS=1 too. Each latch scenario gets a
// freshly started latch on the same data folder, so its peak memory is its
// own. Each virtual user has its own connection and cookies and sends its
// next request as soon as the previous one is answered; the first -warmup of
// each scenario is not counted. The HTTP client is a minimal one of
// latch-bench's own, because net/http's client costs about as much CPU as the
// server it measures.
//
// The scenarios run -rounds times (3 by default), in turn, each round
// measuring every reference again just before the scenarios compared to
// it. Raw argon2id is measured again after logins and after sign-ups, and
// each is compared with the mean of the measurements just before and just
// after it. A target is judged on the median round's figure, and on the worst
// round for memory and failures; the report gives the range. A virtual
// machine's speed can swing by half within seconds, which one round alone
// cannot tell from a difference between servers.
//
// Logins use the right passwords of distinct users, and every user and
// every sign-up comes from an address of its own (X-Forwarded-For from
// loopback, which latch is told to trust), so latch's throttling, per
// account, device and client address, never steps in. They are other users than those whose profile pages load,
// since every login adds a session to the list that page shows.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// config is latch-bench's settings.
type config struct {
	duration        time.Duration
	rounds          int
	warmup          time.Duration
	connections     int
	users           int
	databaseURL     string
	scenarios       []string
	storm           bool
	stormLogins     int
	stormClients    int
	stormRetryAfter bool
	json            bool
	latchBin        string
	latchArgs       []string
	logLevel        string
	serverCPU       int
	clientCPU       int
	growth          bool
	growthUsers     int

	// Hidden: latch-bench starts itself with these to run a reference.
	serveReference string
	measureArgon2  bool
	addr           string
}

// allScenarios are the scenarios in the order they run, whatever the order
// of -scenarios: each reference runs just before the scenarios compared to
// it, because a virtual machine's speed drifts over minutes.
var allScenarios = []string{"ref-hello", "home", "ref-hmac", "profile", "argon2", "login", "signup", "storm"}

// hiddenFlags are for latch-bench's own child processes.
var hiddenFlags = map[string]bool{"serve-reference": true, "measure-argon2": true, "addr": true}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("latch-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured length of each scenario")
	fs.IntVar(&c.rounds, "rounds", 3, "times to run the scenarios, in turn; targets are judged on the median of the rounds' figures (worst for memory and failures), as a virtual machine's speed drifts")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "load before each scenario's measurement, not counted")
	fs.IntVar(&c.connections, "connections", 64, "concurrent connections (virtual users) per scenario")
	fs.IntVar(&c.users, "users", 0, "users to create and log in before the scenarios; 0: as many as -connections")
	fs.StringVar(&c.databaseURL, "database-url", "", "database for latch (its -database-url); empty: SQLite in a fresh temporary folder")
	scen := fs.String("scenarios", strings.Join(allScenarios[:len(allScenarios)-1], ","), "comma-separated scenarios to run, from: "+strings.Join(allScenarios, ", "))
	fs.BoolVar(&c.storm, "storm", false, "also run the storm scenario: many concurrent logins while logged-in users load /profile")
	fs.IntVar(&c.stormLogins, "storm-logins", 500, "concurrent login attempts in the storm, each on its own connection")
	fs.IntVar(&c.stormClients, "storm-clients", 16, "logged-in users loading /profile during the storm")
	fs.BoolVar(&c.stormRetryAfter, "storm-retry-after", true, "storm logins refused with 503 wait as Retry-After says; false: retry at once")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&c.latchBin, "latch-bin", "", "latch binary to measure; empty: build ./cmd/latch into a temporary folder")
	latchArgs := fs.String("latch-args", "", "extra flags for latch, space-separated, such as \"-hash-queue 128\"")
	fs.StringVar(&c.logLevel, "log-level", "info", "latch's -log-level; latch logs one line per request at info, as in production")
	fs.IntVar(&c.serverCPU, "server-cpu", 0, "CPU the servers are pinned to")
	fs.IntVar(&c.clientCPU, "client-cpu", 1, "CPU the load generator is pinned to")
	fs.BoolVar(&c.growth, "growth", false, "instead of the scenarios, measure them on an empty database and again once it holds -growth-users users with three sessions each, a third of them expired, pruned by latch while /profile is measured")
	fs.IntVar(&c.growthUsers, "growth-users", 1_000_000, "users added to the database by -growth, with three sessions each")
	fs.StringVar(&c.serveReference, "serve-reference", "", "internal: serve the hello or hmac reference")
	fs.BoolVar(&c.measureArgon2, "measure-argon2", false, "internal: measure argon2id hashes per second")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "internal: address of the reference server")
	fs.Usage = func() {
		fmt.Fprint(stderr, "latch-bench: measure latch against this machine's limits.\n\nUsage:\n  go run ./cmd/latch-bench [flags]\n\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			if hiddenFlags[f.Name] {
				return
			}
			fmt.Fprintf(stderr, "  -%s (default %q)\n      %s\n", f.Name, f.DefValue, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.latchArgs = strings.Fields(*latchArgs)
	var asked []string
	for s := range strings.SplitSeq(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !contains(allScenarios, s) {
			return c, fmt.Errorf("-scenarios: unknown scenario %q; want some of %s", s, strings.Join(allScenarios, ", "))
		}
		asked = append(asked, s)
	}
	if c.storm {
		asked = append(asked, "storm")
	}
	for _, s := range allScenarios {
		if contains(asked, s) {
			c.scenarios = append(c.scenarios, s)
		}
	}
	var errs []error
	if c.duration <= 0 {
		errs = append(errs, errors.New("-duration: want a positive duration"))
	}
	if c.rounds < 1 {
		errs = append(errs, errors.New("-rounds: want at least 1"))
	}
	if c.warmup < 0 {
		errs = append(errs, errors.New("-warmup: want zero or a positive duration"))
	}
	if c.connections < 1 || c.stormLogins < 1 || c.stormClients < 1 {
		errs = append(errs, errors.New("-connections, -storm-logins, -storm-clients: want at least 1"))
	}
	if c.growthUsers < 0 {
		errs = append(errs, errors.New("-growth-users: want 0 or more"))
	}
	if c.users < 0 {
		errs = append(errs, errors.New("-users: want 0 or more"))
	}
	if c.users == 0 {
		c.users = c.connections
	}
	return c, errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "latch-bench: %v\n", err)
		return 2
	}
	switch {
	case cfg.serveReference != "":
		err = serveReference(cfg.serveReference, cfg.addr)
	case cfg.measureArgon2:
		err = measureArgon2(cfg.warmup, cfg.duration, stdout)
	case cfg.growth:
		err = runGrowth(cfg, stdout, stderr)
	default:
		err = runBench(cfg, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "latch-bench: %v\n", err)
		return 1
	}
	return 0
}
