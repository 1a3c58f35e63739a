package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// bench is one run of latch-bench.
type bench struct {
	cfg      config
	log      io.Writer // progress, for people
	tmp      string    // temporary folder: binaries, data, logs
	dataDir  string    // latch's data folder
	latchBin string
	self     string // this program, to start the references
	taskset  string // path of taskset, empty when not installed
	pinned   bool
	children int
	runID    string // keeps this run's emails apart in a shared database

	dbURL string // given to latch; empty for SQLite in dataDir
	// users load their profile pages; loginUsers log in again and again,
	// in the login and storm scenarios. Every login adds a session to the
	// list a profile page shows, so the two are kept apart: the profile
	// page stays the same in every round.
	users      []benchUser
	loginUsers []benchUser

	machine machine
	results []result
	checks  []check
	notes   []string

	mu   *sync.Mutex
	live map[*proc]bool // children running, killed if latch-bench is

	clients atomic.Uint32 // client addresses handed out by newClient
}

// newClient returns an address no simulated client has had yet, in
// 10.0.0.0/8. Every user and every sign-up comes from its own, as on a real
// site, so that latch's throttling per client address, which allows a
// few dozen attempts before it slows one address down, never steps in.
func (b *bench) newClient() string {
	n := b.clients.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff)
}

// benchUser is a user latch-bench created, logged in once.
type benchUser struct {
	email, name, password string
	client                string // the address it comes from
	cookies               string // "latch_session=..." from the login
}

func runBench(cfg config, stdout, stderr io.Writer) error {
	b := &bench{cfg: cfg, log: stderr, dbURL: cfg.databaseURL, runID: randomString(4), mu: new(sync.Mutex), live: map[*proc]bool{}}
	b.machine = describeMachine()
	var err error
	if b.tmp, err = os.MkdirTemp("", "latch-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	b.cleanUpOnSignal()
	b.dataDir = filepath.Join(b.tmp, "data")
	if b.self, err = os.Executable(); err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	if err := b.buildLatch(); err != nil {
		return err
	}
	b.setUpPinning()
	if isPostgres(b.dbURL) {
		u, drop, err := freshSchema(b.dbURL)
		if err != nil {
			b.notes = append(b.notes, fmt.Sprintf("Could not create a schema of the run's own in %s (%v): latch used the database as given.", redact(b.dbURL), err))
		} else {
			b.dbURL = u
			defer func() {
				if err := drop(); err != nil {
					b.progress("%v", err)
				}
			}()
		}
	}

	// Latch scenarios need to know which database latch accepts, and most
	// need users: both are settled once, on a latch not measured.
	if b.needs("home", "profile", "login", "signup", "storm") {
		if err := b.prepare(); err != nil {
			return err
		}
	}
	for round := 1; round <= cfg.rounds; round++ {
		b.runRound(round)
	}
	b.judge()
	if cfg.json {
		return b.writeJSON(stdout)
	}
	b.writeTable(stdout)
	return nil
}

// roundOrder returns the scenarios of a round in the order they run: as
// listed, with raw argon2id measured again after logins and after sign-ups,
// so that each is compared with the mean of a measurement just before it
// and one just after (see argon2Around). This virtual machine's speed drifts
// within the minute, and a reference taken on one side only carried the
// drift into the ratio.
func (b *bench) roundOrder() []string {
	var order []string
	for _, s := range b.cfg.scenarios {
		order = append(order, s)
		if (s == "login" || s == "signup") && b.needs("argon2") {
			order = append(order, "argon2")
		}
	}
	return order
}

// runRound runs every scenario once, and records their results as round's.
func (b *bench) runRound(round int) {
	for _, s := range b.roundOrder() {
		if b.cfg.rounds > 1 {
			b.progress("round %d of %d: scenario %s: %s warm-up + %s", round, b.cfg.rounds, s, b.cfg.warmup, b.cfg.duration)
		} else {
			b.progress("scenario %s: %s warm-up + %s", s, b.cfg.warmup, b.cfg.duration)
		}
		var rs []result
		var err error
		switch s {
		case "ref-hello":
			rs, err = b.reference("hello")
		case "ref-hmac":
			rs, err = b.reference("hmac")
		case "argon2":
			rs, err = b.argon2()
		case "home":
			rs, err = b.home()
		case "profile":
			rs, err = b.profile()
		case "login":
			rs, err = b.login()
		case "signup":
			rs, err = b.signup()
		case "storm":
			rs, err = b.storm()
		}
		if err != nil {
			b.progress("scenario %s: %v", s, err)
			rs = []result{{Scenario: s, Err: err.Error()}}
		}
		for i := range rs {
			rs[i].Round = round
			if rs[i].FirstError != "" {
				b.progress("scenario %s: first error: %s", rs[i].Scenario, rs[i].FirstError)
			}
		}
		b.results = append(b.results, rs...)
	}
}

// cleanUpOnSignal makes an interrupted run kill its servers and remove its
// temporary folder before exiting.
func (b *bench) cleanUpOnSignal() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-c
		b.mu.Lock()
		for p := range b.live {
			p.cmd.Process.Kill()
			<-p.done
		}
		b.mu.Unlock()
		os.RemoveAll(b.tmp)
		b.progress("interrupted (%v)", sig)
		os.Exit(130)
	}()
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "latch-bench: "+format+"\n", args...)
}

func (b *bench) needs(scenarios ...string) bool {
	for _, s := range scenarios {
		if contains(b.cfg.scenarios, s) {
			return true
		}
	}
	return false
}

// setUpPinning pins this process to the client CPU, when there are CPUs to
// spare, and decides how the servers are pinned.
func (b *bench) setUpPinning() {
	runtime.GOMAXPROCS(1)
	cpus := runtime.NumCPU()
	switch {
	case b.cfg.serverCPU == b.cfg.clientCPU:
		b.machine.Pinning = "none: -server-cpu and -client-cpu are the same"
	case max(b.cfg.serverCPU, b.cfg.clientCPU) >= cpus:
		b.machine.Pinning = fmt.Sprintf("none: only %d CPU(s) available", cpus)
	default:
		if err := pin(0, b.cfg.clientCPU); err != nil {
			b.machine.Pinning = "none: " + err.Error()
			break
		}
		b.pinned = true
		b.taskset, _ = exec.LookPath("taskset")
		how := "sched_setaffinity on every thread"
		if b.taskset != "" {
			how = "taskset"
		}
		b.machine.Pinning = fmt.Sprintf("server on CPU %d (%s), load generator on CPU %d; GOMAXPROCS=1 for the load generator and the references, latch's own choice for latch", b.cfg.serverCPU, how, b.cfg.clientCPU)
	}
	b.machine.ServerCPU, b.machine.ClientCPU = b.cfg.serverCPU, b.cfg.clientCPU
	if !b.pinned {
		b.notes = append(b.notes, "Processes were not pinned to CPUs ("+b.machine.Pinning+"): server and load generator shared the machine.")
	}
}

// startLatch starts latch on the data folder. When latch refuses the
// database URL at the first start, the run goes on with SQLite and says so.
func (b *bench) startLatch(name string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// Loopback is a trusted proxy: each simulated client names its own
	// address in X-Forwarded-For (see newClient).
	argv := []string{b.latchBin, "-addr", addr, "-data-dir", b.dataDir, "-log-level", b.cfg.logLevel, "-trusted-proxies", "127.0.0.1/32"}
	if b.dbURL != "" {
		argv = append(argv, "-database-url", b.dbURL)
	}
	argv = append(argv, b.cfg.latchArgs...)
	return b.start(name, argv, b.latchEnv(), addr)
}

// prepare finds out which database latch runs on and creates the users.
func (b *bench) prepare() error {
	b.progress("starting latch (store: %s)", b.storeName())
	p, err := b.startLatch("latch-setup")
	if err != nil && b.dbURL != "" {
		msg := fmt.Sprintf("latch refused -database-url %s, so this run used SQLite instead. Latch said:\n%v", redact(b.dbURL), err)
		b.progress("%s", msg)
		b.notes = append(b.notes, msg)
		b.dbURL = ""
		p, err = b.startLatch("latch-setup")
	}
	if err != nil {
		return err
	}
	defer p.stop()
	n := b.cfg.users
	if b.needs("storm") {
		n = max(n, b.cfg.stormClients)
	}
	b.progress("creating and logging in %d users", n)
	if b.users, err = b.createUsers(p, "bench", n); err != nil {
		return err
	}
	if b.needs("login", "storm") {
		b.progress("creating %d more users to log in", b.cfg.users)
		b.loginUsers, err = b.createUsers(p, "login", b.cfg.users)
	}
	return err
}

func (b *bench) storeName() string {
	if b.dbURL == "" {
		return "SQLite in a fresh temporary data folder"
	}
	if isPostgres(b.dbURL) {
		return "PostgreSQL (" + redact(b.dbURL) + ")"
	}
	return redact(b.dbURL)
}

// redact hides the password of a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// createUsers signs up n users, emails starting with prefix, logs each in
// once and checks their profile page, keeping their session cookies.
func (b *bench) createUsers(p *proc, prefix string, n int) ([]benchUser, error) {
	users := make([]benchUser, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, 8) {
		wg.Go(func() {
			c := &client{addr: p.addr, deadline: time.Now().Add(30*time.Second + time.Duration(n)*time.Second)}
			defer c.close()
			for i := range next {
				users[i], errs[i] = b.createUser(c, p.addr, prefix, i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("create users: %w\nlatch's log:\n%s", err, p.logTail(10))
	}
	return users, nil
}

func (b *bench) createUser(c *client, host, prefix string, i int) (benchUser, error) {
	u := benchUser{
		email:    fmt.Sprintf("%s-%s-%d@example.com", prefix, b.runID, i),
		name:     fmt.Sprintf("Bench User %d", i),
		password: randomString(12),
		client:   b.newClient(),
	}
	r, err := c.do(postRequest(host, "/signup", u.client, url.Values{"email": {u.email}, "name": {u.name}, "password": {u.password}}), false)
	if err != nil {
		return u, fmt.Errorf("sign up %s: %w", u.email, err)
	}
	if r.status != 303 || r.location != "/login" {
		return u, fmt.Errorf("sign up %s: %w", u.email, errStatus(r, "303 to /login"))
	}
	r, err = c.do(loginRequest(host, u), false)
	if err != nil {
		return u, fmt.Errorf("log in %s: %w", u.email, err)
	}
	if r.status != 303 || r.location != "/profile" {
		return u, fmt.Errorf("log in %s: %w", u.email, errStatus(r, "303 to /profile"))
	}
	if len(r.cookies) == 0 {
		return u, fmt.Errorf("log in %s: %w", u.email, errNoCookie)
	}
	u.cookies = strings.Join(r.cookies, "; ")
	r, err = c.do(getRequest(host, "/profile", u.cookies), true)
	if err != nil {
		return u, fmt.Errorf("profile of %s: %w", u.email, err)
	}
	if want := "Welcome, " + u.name + "!"; r.status != 200 || !bytes.Contains(r.body, []byte(want)) {
		return u, fmt.Errorf("profile of %s: got %d without %q", u.email, r.status, want)
	}
	return u, nil
}

func loginRequest(host string, u benchUser) []byte {
	return postRequest(host, "/login", u.client, url.Values{"email": {u.email}, "password": {u.password}})
}

// randomString returns 2n random characters, never a common password.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// load is one kind of virtual user in a measurement.
type load struct {
	name  string
	conns int
	step  step
}

// measure runs loads together on p for one window, after the warm-up, and
// returns a result for each, with p's peak memory and CPU use, which the
// loads share.
func (b *bench) measure(p *proc, warmup time.Duration, loads ...load) []result {
	w := newWindow(warmup, b.cfg.duration)
	rss := sampleRSS(p.pid(), 100*time.Millisecond)
	// CPU use is read at the start and the end of the measured part:
	// the server's, this process's, and that of the two CPUs, whatever
	// runs there, to tell when other programs took a share.
	type cpuMark struct {
		at                              time.Time
		srv, main, self, srvCPU, cliCPU time.Duration
		err                             error
	}
	mark := func() cpuMark {
		m := cpuMark{at: time.Now(), self: selfCPUTime()}
		var err1, err2, err3, err4 error
		m.srv, err1 = cpuTime(p.pid())
		m.main, err2 = cpuTime1(p.pid())
		m.srvCPU, err3 = cpuBusy(b.cfg.serverCPU)
		m.cliCPU, err4 = cpuBusy(b.cfg.clientCPU)
		m.err = errors.Join(err1, err2, err3, err4)
		return m
	}
	first := make(chan cpuMark, 1)
	go func() {
		time.Sleep(time.Until(w.measureFrom))
		first <- mark()
	}()
	tallies := make([]*tally, len(loads))
	var wg sync.WaitGroup
	for i, l := range loads {
		wg.Go(func() { tallies[i] = runLoad(p.addr, l.conns, w, l.step) })
	}
	wg.Wait()
	c1 := mark()
	c0 := <-first
	sampled := rss.stop()
	_, hwm, _ := memory(p.pid())

	var srvCPU, mainCPU, selfCPU, srvOthers, cliOthers float64
	if span := c1.at.Sub(c0.at).Seconds(); span > 0 && c0.err == nil && c1.err == nil {
		srvCPU = (c1.srv - c0.srv).Seconds() / span
		mainCPU = (c1.main - c0.main).Seconds() / span
		selfCPU = (c1.self - c0.self).Seconds() / span
		if b.pinned {
			srvOthers = max(0, (c1.srvCPU-c0.srvCPU).Seconds()/span-srvCPU)
			cliOthers = max(0, (c1.cliCPU-c0.cliCPU).Seconds()/span-selfCPU)
		}
	}
	// The server process's own CPU time per answer, its hash workers'
	// excluded: what latch spends on a request beside the hash. Loads
	// measured together share it.
	var answered int
	for _, t := range tallies {
		answered += t.ok
	}
	var mainPer float64
	if answered > 0 {
		mainPer = mainCPU * w.measured().Seconds() / float64(answered) * 1e6
	}
	out := make([]result, len(loads))
	for i, l := range loads {
		t := tallies[i]
		secs := w.measured().Seconds()
		out[i] = result{
			Scenario:   l.name,
			Conns:      l.conns,
			Seconds:    secs,
			OK:         t.ok,
			RPS:        float64(t.ok) / secs,
			P50:        ms(percentile(t.latencies, 0.50)),
			P99:        ms(percentile(t.latencies, 0.99)),
			Max:        ms(percentile(t.latencies, 1)),
			Busy:       t.busy,
			Wrong:      t.wrong,
			Errors:     t.errs,
			Statuses:   t.statuses,
			PeakRSS:    max(hwm, sampled),
			ServerCPU:  srvCPU,
			MainUS:     mainPer,
			ClientCPU:  selfCPU,
			SrvOthers:  srvOthers,
			GenOthers:  cliOthers,
			FirstError: t.firstErr,
		}
	}
	return out
}

// reference measures one of the reference servers: GET / of hello, or the
// profile page of hmac with a session per virtual user.
func (b *bench) reference(kind string) ([]result, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := b.start("ref-"+kind, []string{b.self, "-serve-reference", kind, "-addr", addr}, childEnv(), addr)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	conns := b.cfg.connections
	reqs := make([][]byte, conns)
	for i := range conns {
		if kind == "hello" {
			reqs[i] = getRequest(addr, "/", "")
			continue
		}
		c := &client{addr: addr, deadline: time.Now().Add(10 * time.Second)}
		r, err := c.do(getRequest(addr, "/login?name="+url.QueryEscape(fmt.Sprintf("Bench User %d", i)), ""), false)
		c.close()
		if err != nil {
			return nil, err
		}
		if r.status != 200 || len(r.cookies) != 1 {
			return nil, errStatus(r, "200 with a cookie")
		}
		reqs[i] = getRequest(addr, "/profile", r.cookies[0])
	}
	return b.measure(p, b.cfg.warmup, load{name: "ref-" + kind, conns: conns, step: expect(reqs, 200, "")}), nil
}

// expect returns a step that sends user i its request and wants status (and
// location, when not empty).
func expect(reqs [][]byte, status int, location string) step {
	return func(i, n int, c *client) outcome {
		r, err := c.do(reqs[i], false)
		if err != nil {
			return outcome{err: err}
		}
		if r.status != status || r.location != location {
			return outcome{status: r.status, err: errStatus(r, fmt.Sprintf("%d %s", status, location)), pause: r.retryAfter}
		}
		return outcome{ok: true, status: r.status}
	}
}

// argon2 measures raw argon2id hashing at latch's parameters in a child
// process pinned like the servers.
func (b *bench) argon2() ([]result, error) {
	argv := []string{b.self, "-measure-argon2", "-warmup", b.cfg.warmup.String(), "-duration", b.cfg.duration.String()}
	if b.pinned && b.taskset != "" {
		argv = append([]string{b.taskset, "-c", strconv.Itoa(b.cfg.serverCPU)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if b.pinned {
		pin(cmd.Process.Pid, b.cfg.serverCPU)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("argon2id measurement: %v: %s", err, stderr.Bytes())
	}
	var a argon2Result
	if err := json.Unmarshal(stdout.Bytes(), &a); err != nil {
		return nil, fmt.Errorf("argon2id measurement: %w", err)
	}
	peak := peakRSS(cmd.ProcessState)
	return []result{{
		Scenario:  "argon2id",
		Conns:     1,
		Seconds:   a.Seconds,
		OK:        a.Hashes,
		RPS:       float64(a.Hashes) / a.Seconds,
		P50:       a.P50,
		P99:       a.P99,
		PeakRSS:   peak,
		ServerCPU: a.CPUSeconds / a.Seconds,
		Statuses:  map[int]int{},
	}}, nil
}

// home measures the anonymous home page.
func (b *bench) home() ([]result, error) {
	p, err := b.startLatch("latch-home")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	reqs := make([][]byte, b.cfg.connections)
	for i := range reqs {
		reqs[i] = getRequest(p.addr, "/", "")
	}
	return b.measure(p, b.cfg.warmup, load{name: "home", conns: len(reqs), step: expect(reqs, 200, "")}), nil
}

// profileRequests returns GET /profile for n users, with their cookies.
func (b *bench) profileRequests(host string, n int) [][]byte {
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = getRequest(host, "/profile", b.users[i%len(b.users)].cookies)
	}
	return reqs
}

// profile measures the profile page of logged-in users.
func (b *bench) profile() ([]result, error) {
	p, err := b.startLatch("latch-profile")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	reqs := b.profileRequests(p.addr, b.cfg.connections)
	return b.measure(p, b.cfg.warmup, load{name: "profile", conns: len(reqs), step: expect(reqs, 200, "")}), nil
}

// loginStep logs users in, user i%len(users) on connection i, with the right
// password. A refusal, 503 (hashing queue full) or 429 (throttled: more
// than eleven logins of one user in flight at once, its account's free
// failures and one, count as failures until they succeed), waits for
// Retry-After when retryAfter is set.
func loginStep(host string, users []benchUser, retryAfter bool) step {
	reqs := make([][]byte, len(users))
	for i, u := range users {
		reqs[i] = loginRequest(host, u)
	}
	return func(i, n int, c *client) outcome {
		r, err := c.do(reqs[i%len(reqs)], false)
		if err != nil {
			return outcome{err: err}
		}
		if r.status != 303 || r.location != "/profile" {
			o := outcome{status: r.status, err: errStatus(r, "303 to /profile")}
			if refused(r.status) && retryAfter {
				o.pause = r.retryAfter
			}
			return o
		}
		return outcome{ok: true, status: r.status}
	}
}

// login measures logins: each connection logs its own user in, again and
// again.
func (b *bench) login() ([]result, error) {
	p, err := b.startLatch("latch-login")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	return b.measure(p, b.cfg.warmup, load{name: "login", conns: b.cfg.connections, step: loginStep(p.addr, b.loginUsers, false)}), nil
}

// signup measures sign-ups of new users.
func (b *bench) signup() ([]result, error) {
	p, err := b.startLatch("latch-signup")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	s := func(i, n int, c *client) outcome {
		form := url.Values{
			"email":    {fmt.Sprintf("signup-%s-%d-%d@example.com", b.runID, i, n)},
			"name":     {fmt.Sprintf("Signup %d %d", i, n)},
			"password": {randomString(12)},
		}
		r, err := c.do(postRequest(p.addr, "/signup", b.newClient(), form), false)
		if err != nil {
			return outcome{err: err}
		}
		if r.status != 303 || r.location != "/login" {
			return outcome{status: r.status, err: errStatus(r, "303 to /login")}
		}
		return outcome{ok: true, status: r.status}
	}
	return b.measure(p, b.cfg.warmup, load{name: "signup", conns: b.cfg.connections, step: s}), nil
}

// storm measures logged-in users' profile pages alone, then the same while a
// storm of concurrent logins hits the same latch.
func (b *bench) storm() ([]result, error) {
	p, err := b.startLatch("latch-storm")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	reqs := b.profileRequests(p.addr, b.cfg.stormClients)
	base := b.measure(p, b.cfg.warmup, load{name: "storm: profile, before", conns: len(reqs), step: expect(reqs, 200, "")})
	b.progress("scenario storm: %d concurrent logins for %s", b.cfg.stormLogins, b.cfg.duration)
	// The storm is the burst of logins at once: no warm-up hides it, and
	// the server is warm from the baseline.
	during := b.measure(p, 0,
		load{name: "storm: profile, during", conns: len(reqs), step: expect(reqs, 200, "")},
		load{name: "storm: logins", conns: b.cfg.stormLogins, step: loginStep(p.addr, b.loginUsers, b.cfg.stormRetryAfter)},
	)
	alive := p.alive()
	if alive {
		// Alive and answering: the health check reads and writes the
		// database.
		c := &client{addr: p.addr, deadline: time.Now().Add(10 * time.Second)}
		r, err := c.do(getRequest(p.addr, "/healthz", ""), false)
		c.close()
		alive = err == nil && r.status == 200
	}
	for i := range during {
		during[i].Alive = &alive
	}
	return append(base, during...), nil
}

// buildLatch sets b.latchBin to the binary given with -latch-bin or, when
// none was, builds cmd/latch into b.tmp. It runs before pinning, so the
// build has every CPU.
func (b *bench) buildLatch() error {
	if b.latchBin = b.cfg.latchBin; b.latchBin != "" {
		return nil
	}
	b.latchBin = filepath.Join(b.tmp, "latch")
	b.progress("building cmd/latch")
	out, err := exec.Command("go", "build", "-o", b.latchBin, "github.com/latchauth/latch/cmd/latch").CombinedOutput()
	if err != nil {
		return fmt.Errorf("build latch (run latch-bench from the repository, or give -latch-bin): %v\n%s", err, out)
	}
	return nil
}
