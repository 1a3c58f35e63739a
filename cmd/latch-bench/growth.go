package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/account"
	"github.com/latchauth/latch/password"
	"github.com/latchauth/latch/pgstore"
	"github.com/latchauth/latch/sqlitestore"
	_ "modernc.org/sqlite" // the driver sqlitestore uses, for the bulk inserts
)

// growthScenarios are the scenarios measured on the empty database and again
// on the grown one.
var growthScenarios = []string{"home", "profile", "sessions", "login", "signup", "users-list"}

// growth is a -growth run: the same scenarios on two sites, an empty
// database and one grown to cfg.growthUsers users and three sessions each,
// measured one after the other scenario by scenario, so that the machine's
// drift, which can halve its speed within a minute, falls on both alike.
// The pruning of a third of the grown site's sessions is measured on the
// way.
type growth struct {
	*bench
	empty, grown *site
	seed         seedStats
	prune        pruneStats
}

// site is a database with latch's users on it, and its measurements.
type site struct {
	*bench
	listUser benchUser // a user with growthSessions sessions, for "sessions"
	results  map[string][]result
}

// seedStats is what seeding the database took and made.
type seedStats struct {
	Users, Live, Expired int
	UsersTime, SessTime  time.Duration
	BytesPerUser         float64
	BytesPerSession      float64
}

// pruneStats is the pruning of the expired sessions, run by latch at its
// start, while logged-in users load /profile.
type pruneStats struct {
	Deleted  string // as latch logged it
	Took     time.Duration
	During   result // /profile while pruning
	Complete bool   // latch logged the prune's end within the time allowed
}

// growthSessions is how many sessions of its own the "sessions" user has:
// latch's default MaxSessions, the longest list a profile can have.
const growthSessions = 100

func runGrowth(cfg config, stdout, stderr io.Writer) error {
	b := &bench{cfg: cfg, log: stderr, runID: randomString(4), mu: new(sync.Mutex), live: map[*proc]bool{}}
	b.machine = describeMachine()
	var err error
	if b.tmp, err = os.MkdirTemp("", "latch-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	b.cleanUpOnSignal()
	if err := b.buildLatch(); err != nil {
		return err
	}
	b.setUpPinning()
	b.cfg.scenarios = []string{"home", "profile", "login", "signup"}
	g := &growth{bench: b}
	for _, name := range []string{"empty", "grown"} {
		// Each site has its own folder, database, users and logs; the
		// processes of both are b's, killed if latch-bench is.
		sb := &bench{cfg: b.cfg, log: b.log, tmp: filepath.Join(b.tmp, name), latchBin: b.latchBin,
			taskset: b.taskset, pinned: b.pinned, runID: b.runID + name[:1], machine: b.machine, mu: b.mu, live: b.live}
		if err := os.Mkdir(sb.tmp, 0o700); err != nil {
			return err
		}
		sb.dataDir = filepath.Join(sb.tmp, "data")
		if isPostgres(cfg.databaseURL) {
			u, drop, err := freshSchema(cfg.databaseURL)
			if err != nil {
				return fmt.Errorf("create a schema for the run in %s: %w", redact(cfg.databaseURL), err)
			}
			sb.dbURL = u
			defer func() {
				if err := drop(); err != nil {
					b.progress("%v", err)
				}
			}()
		}
		s := &site{bench: sb, results: map[string][]result{}}
		b.progress("preparing the %s site", name)
		if err := s.prepare(); err != nil {
			return err
		}
		if err := s.prepareListUser(); err != nil {
			return err
		}
		if name == "empty" {
			g.empty = s
		} else {
			g.grown = s
		}
	}
	if err := g.grow(); err != nil {
		return err
	}
	if err := g.measurePrune(); err != nil {
		return err
	}
	for round := 1; round <= cfg.rounds; round++ {
		for _, sc := range growthScenarios {
			for _, s := range []*site{g.empty, g.grown} {
				b.progress("round %d of %d: scenario %s on the %s database", round, cfg.rounds, sc, map[*site]string{g.empty: "empty", g.grown: "grown"}[s])
				r, err := s.measureOne(sc)
				if err != nil {
					return fmt.Errorf("scenario %s: %w", sc, err)
				}
				s.results[sc] = append(s.results[sc], r)
			}
		}
	}
	g.writeTable(stdout)
	return nil
}

// prepareListUser creates the user whose profile lists growthSessions
// sessions: logged in once through latch, the others added to the
// database directly.
func (s *site) prepareListUser() error {
	p, err := s.startLatch("latch-setup")
	if err != nil {
		return err
	}
	users, err := s.createUsers(p, "list", 1)
	p.stop()
	if err != nil {
		return err
	}
	s.listUser = users[0]
	sd, err := s.openSeeder()
	if err != nil {
		return err
	}
	defer sd.close()
	id, err := sd.userID(users[0].email)
	if err != nil {
		return err
	}
	now := time.Now()
	return sd.sessions(func(yield func(seedSession) bool) {
		for i := range growthSessions - 1 {
			if !yield(seedSession{key: "list-" + s.runID + "-" + strconv.Itoa(i), userID: id, lastSeen: now.Add(-time.Duration(i+1) * time.Second), expires: now.Add(24 * time.Hour)}) {
				return
			}
		}
	})
}

// measureOne runs one growth scenario on the site.
func (s *site) measureOne(sc string) (result, error) {
	var rs []result
	var err error
	switch sc {
	case "home":
		rs, err = s.home()
	case "profile":
		rs, err = s.profile()
	case "sessions":
		rs, err = s.sessionsPage()
	case "login":
		rs, err = s.login()
	case "signup":
		rs, err = s.signup()
	case "users-list":
		rs, err = s.usersList()
	}
	if err != nil {
		return result{}, err
	}
	r := rs[0]
	if r.FirstError != "" {
		s.progress("scenario %s: first error: %s", sc, r.FirstError)
	}
	return r, nil
}

// median returns the result of the median round by requests per second.
func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b result) int { return cmp.Compare(a.RPS, b.RPS) })
	return sorted[len(sorted)/2]
}

// sessionsPage measures the profile page of a user with growthSessions
// sessions, which lists the ten most recent and counts the others.
func (s *site) sessionsPage() ([]result, error) {
	p, err := s.startLatch("latch-sessions")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	reqs := make([][]byte, s.cfg.connections)
	for i := range reqs {
		reqs[i] = getRequest(p.addr, "/profile", s.listUser.cookies)
	}
	return s.measure(p, s.cfg.warmup, load{name: "sessions", conns: len(reqs), step: expect(reqs, 200, "")}), nil
}

// usersList times pages of 500 users, as latch users list reads them: the
// first, one in the middle and the last, each the median of several reads.
// RPS is users listed per second over all of them; P50 and P99 are the
// middle page's and the slowest page's time per 500 users listed, so that
// an empty database's short page compares with a full one.
func (s *site) usersList() ([]result, error) {
	ctx := context.Background()
	store, closeStore, err := s.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	seed, err := s.openSeeder()
	if err != nil {
		return nil, err
	}
	last, err := seed.lastUserID()
	seed.close()
	if err != nil {
		return nil, err
	}
	var total, worst, middle, slowest time.Duration
	listed := 0
	for i, after := range []int64{0, last / 2, max(last-500, 0)} {
		var reads []time.Duration
		rows := 0
		for range 9 {
			t0 := time.Now()
			page, err := store.ListUsers(ctx, after, 500)
			if err != nil {
				return nil, fmt.Errorf("list users after %d: %w", after, err)
			}
			reads = append(reads, time.Since(t0))
			rows = len(page)
		}
		slices.Sort(reads)
		for _, r := range reads {
			total += r
		}
		listed += 9 * rows
		slowest = max(slowest, reads[len(reads)-1])
		per500 := reads[len(reads)/2] * 500 / time.Duration(max(rows, 1))
		worst = max(worst, per500)
		if i == 1 {
			middle = per500
		}
	}
	return []result{{
		Scenario: "users-list",
		Conns:    1,
		Seconds:  total.Seconds(),
		OK:       listed,
		RPS:      float64(listed) / total.Seconds(),
		P50:      ms(middle),
		P99:      ms(worst),
		Max:      ms(slowest),
	}}, nil
}

// openStore opens latch's store, while no latch runs, for the users list.
func (s *site) openStore(ctx context.Context) (account.Store, func(), error) {
	if isPostgres(s.dbURL) {
		db, err := pgstore.Open(ctx, s.dbURL)
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	}
	db, err := sqlitestore.Open(ctx, filepath.Join(s.dataDir, "latch.db"))
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// grow adds cfg.growthUsers users with three sessions each, one of them
// expired, straight into the database, with one argon2id hash for all.
func (g *growth) grow() error {
	hash, err := password.NewHasher(password.DefaultParams, 1, 0).Hash(context.Background(), randomString(12))
	if err != nil {
		return err
	}
	s, err := g.grown.openSeeder()
	if err != nil {
		return err
	}
	defer s.close()
	n := g.cfg.growthUsers
	size0, err := s.size()
	if err != nil {
		return err
	}
	g.progress("seeding %d users", n)
	t0 := time.Now()
	first, err := s.users(n, "seed-"+g.runID, hash)
	if err != nil {
		return err
	}
	g.seed.UsersTime = time.Since(t0)
	size1, err := s.size()
	if err != nil {
		return err
	}
	g.progress("seeded %d users in %s; seeding %d sessions", n, g.seed.UsersTime.Round(time.Millisecond), 3*n)
	now := time.Now()
	t0 = time.Now()
	err = s.sessions(func(yield func(seedSession) bool) {
		for i := range n {
			id := strconv.FormatInt(first+int64(i), 10)
			for k := range 3 {
				ss := seedSession{key: fmt.Sprintf("seed-%s-%d-%d", g.runID, i, k), userID: id,
					lastSeen: now.Add(-time.Duration(k+1) * time.Minute), expires: now.Add(7 * 24 * time.Hour)}
				if k == 2 {
					ss.lastSeen, ss.expires = now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour)
				}
				if !yield(ss) {
					return
				}
			}
		}
	})
	if err != nil {
		return err
	}
	g.seed.SessTime = time.Since(t0)
	size2, err := s.size()
	if err != nil {
		return err
	}
	g.seed.Users, g.seed.Live, g.seed.Expired = n, 2*n, n
	if n > 0 {
		g.seed.BytesPerUser = float64(size1-size0) / float64(n)
		g.seed.BytesPerSession = float64(size2-size1) / float64(3*n)
	}
	g.progress("seeded %d sessions in %s", 3*n, g.seed.SessTime.Round(time.Millisecond))
	return nil
}

// measurePrune starts latch on the grown database, which prunes expired
// sessions at once, and measures /profile in one-second windows until latch
// logs the prune's end.
func (g *growth) measurePrune() error {
	g.progress("scenario prune: /profile while latch prunes %d expired sessions", g.seed.Expired)
	p, err := g.grown.startLatch("latch-prune")
	if err != nil {
		return err
	}
	defer p.stop()
	reqs := g.grown.profileRequests(p.addr, g.cfg.connections)
	all := &tally{statuses: map[int]int{}}
	t0 := time.Now()
	limit := time.Hour
	var measured time.Duration
	for time.Since(t0) < limit {
		w := newWindow(0, time.Second)
		all.add(runLoad(p.addr, len(reqs), w, expect(reqs, 200, "")))
		measured += w.measured()
		if line, ok := p.nextLogLine("pruned expired sessions"); ok {
			g.prune.Complete = true
			g.prune.Deleted = line
			break
		}
	}
	g.prune.Took = time.Since(t0)
	slices.Sort(all.latencies)
	g.prune.During = result{
		Scenario: "profile while pruning", Conns: len(reqs), Seconds: measured.Seconds(), OK: all.ok,
		RPS: float64(all.ok) / measured.Seconds(), P50: ms(percentile(all.latencies, 0.5)),
		P99: ms(percentile(all.latencies, 0.99)), Max: ms(percentile(all.latencies, 1)),
		Busy: all.busy, Wrong: all.wrong, Errors: all.errs, FirstError: all.firstErr,
	}
	return nil
}

// writeTable prints the growth run's report.
func (g *growth) writeTable(out io.Writer) {
	fmt.Fprintf(out, "latch-bench -growth: %s\n", g.grown.storeName())
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s; %s\n", g.machine.CPUModel, g.machine.CPUs, g.machine.Memory, g.machine.Pinning)
	fmt.Fprintf(out, "grown: %d users and %d sessions (%d live, %d expired) seeded in %s + %s\n",
		g.seed.Users, g.seed.Live+g.seed.Expired, g.seed.Live, g.seed.Expired,
		g.seed.UsersTime.Round(time.Second), g.seed.SessTime.Round(time.Second))
	fmt.Fprintf(out, "database size: %.0f bytes per user, %.0f bytes per session, indexes included\n", g.seed.BytesPerUser, g.seed.BytesPerSession)
	fmt.Fprintf(out, "medians of %d rounds; in each, every scenario ran on the empty database and right after on the grown one\n\n", g.cfg.rounds)
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tempty /s\tempty p99 ms\tgrown /s\tgrown p99 ms\t/s grown÷empty\tp99 grown÷empty\terrors\t\n")
	for _, s := range growthScenarios {
		e, gr := median(g.empty.results[s]), median(g.grown.results[s])
		errs := 0
		for _, r := range append(slices.Clone(g.empty.results[s]), g.grown.results[s]...) {
			errs += r.Wrong + r.Errors
		}
		name := s
		if s == "users-list" {
			name = "users-list (users/s, ms per 500)"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.0f\t%.2f\t%s\t%s\t%d\t\n", name, e.RPS, e.P99, gr.RPS, gr.P99,
			ratio(gr.RPS, e.RPS), ratio(gr.P99, e.P99), errs)
	}
	tw.Flush()
	d := g.prune.During
	base := median(g.grown.results["profile"])
	fmt.Fprintf(out, "\nprune of %d expired sessions at latch's start: %s", g.seed.Expired, g.prune.Took.Round(100*time.Millisecond))
	if !g.prune.Complete {
		fmt.Fprintf(out, " (its end was not logged: measured until then)")
	}
	fmt.Fprintf(out, "\n/profile while pruning: %.0f/s, p99 %.2f ms (%s the grown database's %.2f ms), %d errors\n",
		d.RPS, d.P99, ratio(d.P99, base.P99), base.P99, d.Wrong+d.Errors)
	if g.prune.Deleted != "" {
		fmt.Fprintf(out, "latch logged: %s\n", g.prune.Deleted)
	}
	fmt.Fprintf(out, "users-list: pages of 500 users read as latch users list reads them, the first, middle and last (9 reads each): users listed per second, and in the p99 column the slowest page's median time per 500 users\n")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// seedSession is a session to add straight into the database.
type seedSession struct {
	key               string // makes the ID and token hash
	userID            string
	lastSeen, expires time.Time
}

// seeder writes rows straight into latch's database, in large
// transactions.
type seeder interface {
	// users adds n users, emails prefix-i@example.com, and returns the
	// ID of the first; the others follow it.
	users(n int, prefix, hash string) (first int64, err error)
	sessions(seq func(yield func(seedSession) bool)) error
	userID(email string) (string, error)
	lastUserID() (int64, error)
	size() (int64, error) // of the database, in bytes
	close()
}

func (b *bench) openSeeder() (seeder, error) {
	if isPostgres(b.dbURL) {
		return openPGSeeder(b.dbURL)
	}
	return openSQLiteSeeder(filepath.Join(b.dataDir, "latch.db"))
}

// seedHash returns a distinct 32-byte hash for the key.
func seedHash(kind, key string) []byte {
	h := sha256.Sum256([]byte(kind + "\x00" + key))
	return h[:]
}

func seedID(key string) string {
	h := seedHash("id", key)
	return hex.EncodeToString(h[:16])
}

const seedBatch = 20_000

type sqliteSeeder struct {
	db   *sql.DB
	path string
}

func openSQLiteSeeder(path string) (*sqliteSeeder, error) {
	// Synchronous off: a run's seed need not survive a power loss.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(off)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &sqliteSeeder{db: db, path: path}, nil
}

func (s *sqliteSeeder) close() { s.db.Close() }

func (s *sqliteSeeder) userID(email string) (string, error) {
	var id int64
	err := s.db.QueryRow(`SELECT id FROM latch_users WHERE email = ?`, email).Scan(&id)
	return strconv.FormatInt(id, 10), err
}

func (s *sqliteSeeder) lastUserID() (int64, error) {
	var id int64
	err := s.db.QueryRow(`SELECT coalesce(max(id), 0) FROM latch_users`).Scan(&id)
	return id, err
}

func (s *sqliteSeeder) size() (int64, error) {
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	var pages, size int64
	if err := s.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, err
	}
	err := s.db.QueryRow(`PRAGMA page_size`).Scan(&size)
	return pages * size, err
}

// batches runs insert for each of n rows, seedBatch to a transaction.
func (s *sqliteSeeder) batches(query string, rows func(yield func(args []any) bool)) error {
	var tx *sql.Tx
	var stmt *sql.Stmt
	n := 0
	var err error
	commit := func() error {
		if tx == nil {
			return nil
		}
		stmt.Close()
		err := tx.Commit()
		tx = nil
		return err
	}
	rows(func(args []any) bool {
		if tx == nil {
			if tx, err = s.db.Begin(); err != nil {
				return false
			}
			if stmt, err = tx.Prepare(query); err != nil {
				return false
			}
		}
		if _, err = stmt.Exec(args...); err != nil {
			return false
		}
		if n++; n%seedBatch == 0 {
			err = commit()
		}
		return err == nil
	})
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		return err
	}
	return commit()
}

func (s *sqliteSeeder) users(n int, prefix, hash string) (int64, error) {
	var before int64
	if err := s.db.QueryRow(`SELECT coalesce(max(id), 0) FROM latch_users`).Scan(&before); err != nil {
		return 0, err
	}
	created := time.Now().UnixMicro()
	err := s.batches(`INSERT INTO latch_users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)`, func(yield func([]any) bool) {
		for i := range n {
			if !yield([]any{prefix + "-" + strconv.Itoa(i) + "@example.com", "Seed User " + strconv.Itoa(i), hash, created}) {
				return
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("seed users: %w", err)
	}
	var first, count int64
	if err := s.db.QueryRow(`SELECT min(id), count(*) FROM latch_users WHERE id > ?`, before).Scan(&first, &count); err != nil {
		return 0, err
	}
	if count != int64(n) || (n > 0 && first != before+1) {
		return 0, fmt.Errorf("seed users: %d users from ID %d; want %d from %d", count, first, n, before+1)
	}
	return first, nil
}

func (s *sqliteSeeder) sessions(seq func(yield func(seedSession) bool)) error {
	err := s.batches(`INSERT INTO latch_sessions (id, user_id, token_hash, remember_hash, remember, fresh, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, 1, 1, ?, ?, ?, '192.0.2.1', 'Mozilla/5.0 (X11; Linux x86_64) latch-bench seed')`, func(yield func([]any) bool) {
		for ss := range seq {
			created := ss.lastSeen.Add(-time.Hour).UnixMicro()
			if !yield([]any{seedID(ss.key), ss.userID, seedHash("token", ss.key), seedHash("remember", ss.key), created, ss.lastSeen.UnixMicro(), ss.expires.UnixMicro()}) {
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	return nil
}

type pgSeeder struct {
	conn *pgx.Conn
}

func openPGSeeder(rawURL string) (*pgSeeder, error) {
	conn, err := pgx.Connect(context.Background(), withoutCacheParam(rawURL))
	if err != nil {
		return nil, err
	}
	// A run's seed need not wait for the disk.
	if _, err := conn.Exec(context.Background(), `SET synchronous_commit = off`); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return &pgSeeder{conn: conn}, nil
}

// withoutCacheParam drops pgstore's own latch_cache parameter, which
// PostgreSQL would refuse.
func withoutCacheParam(rawURL string) string {
	i := strings.Index(rawURL, "?")
	if i < 0 {
		return rawURL
	}
	var keep []string
	for p := range strings.SplitSeq(rawURL[i+1:], "&") {
		if !strings.HasPrefix(p, "latch_cache=") {
			keep = append(keep, p)
		}
	}
	return rawURL[:i] + "?" + strings.Join(keep, "&")
}

func (s *pgSeeder) close() { s.conn.Close(context.Background()) }

func (s *pgSeeder) userID(email string) (string, error) {
	var id int64
	err := s.conn.QueryRow(context.Background(), `SELECT id FROM latch_users WHERE email = $1`, email).Scan(&id)
	return strconv.FormatInt(id, 10), err
}

func (s *pgSeeder) lastUserID() (int64, error) {
	var id int64
	err := s.conn.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM latch_users`).Scan(&id)
	return id, err
}

func (s *pgSeeder) size() (int64, error) {
	var n int64
	err := s.conn.QueryRow(context.Background(), `SELECT pg_total_relation_size('latch_users') + pg_total_relation_size('latch_sessions')`).Scan(&n)
	return n, err
}

// copyRows copies rows into table, seedBatch to a transaction.
func (s *pgSeeder) copyRows(table string, cols []string, rows func(yield func([]any) bool)) error {
	ctx := context.Background()
	batch := make([][]any, 0, seedBatch)
	var err error
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		_, err = s.conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(batch))
		batch = batch[:0]
		return err == nil
	}
	rows(func(args []any) bool {
		batch = append(batch, args)
		if len(batch) == seedBatch {
			return flush()
		}
		return true
	})
	if err == nil {
		flush()
	}
	return err
}

func (s *pgSeeder) users(n int, prefix, hash string) (int64, error) {
	ctx := context.Background()
	var before int64
	if err := s.conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM latch_users`).Scan(&before); err != nil {
		return 0, err
	}
	created := time.Now()
	err := s.copyRows("latch_users", []string{"email", "name", "password_hash", "created_at"}, func(yield func([]any) bool) {
		for i := range n {
			if !yield([]any{prefix + "-" + strconv.Itoa(i) + "@example.com", "Seed User " + strconv.Itoa(i), hash, created}) {
				return
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("seed users: %w", err)
	}
	var first, last, count int64
	if err := s.conn.QueryRow(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM latch_users WHERE id > $1`, before).Scan(&first, &last, &count); err != nil {
		return 0, err
	}
	if count != int64(n) || (n > 0 && last-first+1 != count) {
		return 0, fmt.Errorf("seed users: %d users with IDs %d to %d; want %d in a row", count, first, last, n)
	}
	if _, err := s.conn.Exec(ctx, `ANALYZE latch_users`); err != nil {
		return 0, err
	}
	return first, nil
}

func (s *pgSeeder) sessions(seq func(yield func(seedSession) bool)) error {
	cols := []string{"id", "user_id", "token_hash", "remember_hash", "remember", "fresh", "created_at", "last_seen_at", "expires_at", "ip", "user_agent"}
	err := s.copyRows("latch_sessions", cols, func(yield func([]any) bool) {
		for ss := range seq {
			if !yield([]any{seedID(ss.key), ss.userID, seedHash("token", ss.key), seedHash("remember", ss.key), true, true,
				ss.lastSeen.Add(-time.Hour), ss.lastSeen, ss.expires, "192.0.2.1", "Mozilla/5.0 (X11; Linux x86_64) latch-bench seed"}) {
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	_, err = s.conn.Exec(context.Background(), `ANALYZE latch_sessions`)
	return err
}
