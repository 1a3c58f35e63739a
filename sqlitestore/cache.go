package sqlitestore

import (
	"context"
	"time"
)

// pollInterval is how often a DB asks SQLite whether another process wrote
// to the file. It bounds how long a change made by another process, such
// as `latch users delete`, can go unseen by the cache.
const pollInterval = 100 * time.Millisecond

// watch polls the writer connection's data_version until ctx is done, and
// forgets the cache whenever another process has committed a change to the
// file. While the poll fails, the cache is off: without an answer, a
// change cannot be ruled out.
func (db *DB) watch(ctx context.Context) {
	defer close(db.watching)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last dataVersion
	for {
		v, err := db.dataVersion(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			db.cache.SetOff(true)
		case v != last:
			db.cache.ForgetAll()
			db.cache.SetOff(false)
		default:
			db.cache.SetOff(false)
		}
		last = v
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dataVersion is the writer connection's PRAGMA data_version. Its value counts
// per connection, so the connection is part of it.
type dataVersion struct {
	conn    any // the driver's connection
	version int64
}

// dataVersion returns the writer connection's data_version. The writer is
// the only connection of this DB that writes, so the value changes exactly
// when another process commits. Should the pool replace the connection,
// the new one counts afresh, and the changed conn tells.
func (db *DB) dataVersion(ctx context.Context) (dataVersion, error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return dataVersion{}, err
	}
	defer conn.Close()
	var v dataVersion
	if err := conn.Raw(func(dc any) error { v.conn = dc; return nil }); err != nil {
		return dataVersion{}, err
	}
	// The query itself does not watch ctx, which only stops the polling:
	// watching costs the driver a goroutine per query (see [quick]).
	qctx, err := quick(ctx)
	if err != nil {
		return dataVersion{}, err
	}
	if err := conn.QueryRowContext(qctx, `PRAGMA data_version`).Scan(&v.version); err != nil {
		return dataVersion{}, err
	}
	return v, nil
}
