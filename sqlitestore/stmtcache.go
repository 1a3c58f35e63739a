package sqlitestore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
)

// maxCachedStmts bounds the statements a connection keeps prepared. The
// store runs a few dozen distinct queries; when more come, the cache starts
// afresh rather than growing.
const maxCachedStmts = 64

// cachingConnector opens connections that keep each query they run
// prepared, and run it again from there the next time the same text comes.
//
// SQLite compiles a statement each time it is handed SQL text, and the
// driver has no statement cache of its own, so every ExecContext and
// QueryContext through database/sql used to compile its query afresh. For a
// login, which makes four small writes and three reads, compiling took a
// fifth of the server's own CPU time (perf, latch-bench). Statements
// prepared through database/sql ([sql.DB.PrepareContext]) pass through
// uncached: database/sql owns and closes those.
type cachingConnector struct {
	driver.Connector
}

// Connect implements [driver.Connector].
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(innerConn)
	if !ok {
		dc.Close()
		return nil, errors.New("sqlitestore: the SQLite driver's connections lack the context methods this package needs; use the modernc.org/sqlite version in go.mod")
	}
	return &cachingConn{inner: inner, stmts: map[string]*cachedStmt{}}, nil
}

// innerConn is what the driver's connections implement and cachingConn
// passes on.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

// contextStmt is what the driver's statements implement.
type contextStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a prepared statement kept by its connection.
type cachedStmt struct {
	contextStmt
	// open is set while rows of the statement are being read: the same
	// query run meanwhile, in the same transaction, gets a statement of
	// its own.
	open bool
}

// cachingConn is a connection with its statement cache. database/sql uses
// a connection from one goroutine at a time, so the cache needs no lock.
type cachingConn struct {
	inner    innerConn
	stmts    map[string]*cachedStmt
	prepared int // statements compiled for the cache, for tests
}

// cacheable reports whether query is worth keeping prepared: data
// statements only. Schema statements run once. A PRAGMA takes effect when
// SQLite compiles it, and its program expires itself once run, so SQLite
// compiles it again each time whatever the cache does; a cached one run
// for the first time long after it was compiled would change nothing.
func cacheable(query string) bool {
	query = strings.TrimLeft(query, " \t\r\n")
	end := strings.IndexFunc(query, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(query)
	}
	switch strings.ToUpper(query[:end]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		return true
	}
	return false
}

// stmt returns the cached statement for query, preparing it on first use,
// or nil when query is not to be cached or its statement is in use.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.open {
			return nil, nil
		}
		return s, nil
	}
	if !cacheable(query) {
		return nil, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.flush()
	}
	ds, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs, ok := ds.(contextStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	s := &cachedStmt{contextStmt: cs}
	c.stmts[query] = s
	c.prepared++
	return s, nil
}

// flush closes the cached statements not in use and forgets them.
func (c *cachingConn) flush() error {
	var errs []error
	for q, s := range c.stmts {
		if !s.open {
			errs = append(errs, s.Close())
			delete(c.stmts, q)
		}
	}
	return errors.Join(errs...)
}

// ExecContext implements [driver.ExecerContext].
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	return s.ExecContext(ctx, args)
}

// QueryContext implements [driver.QueryerContext].
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.open = true
	return &cachedRows{Rows: rows, stmt: s}, nil
}

// cachedRows are the rows of a cached statement, which is free again once
// they are closed.
type cachedRows struct {
	driver.Rows
	stmt *cachedStmt
}

// Close implements [driver.Rows].
func (r *cachedRows) Close() error {
	r.stmt.open = false
	return r.Rows.Close()
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.open = false
	}
	return errors.Join(c.flush(), c.inner.Close())
}

// Prepare implements [driver.Conn], uncached.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

// PrepareContext implements [driver.ConnPrepareContext], uncached:
// database/sql closes the statements it prepares.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Begin implements [driver.Conn].
//
// Deprecated: database/sql calls BeginTx.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements [driver.ConnBeginTx].
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

// ResetSession implements [driver.SessionResetter].
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

// IsValid implements [driver.Validator].
func (c *cachingConn) IsValid() bool { return c.inner.IsValid() }

// Ping implements [driver.Pinger].
func (c *cachingConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }
