package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchauth/latch/throttle"
)

// addFailureQuery counts one failure in a single statement, so concurrent
// failures, from this process or another, can neither be lost nor both start
// a new count. ?1 is the key, ?2 the time of the failure and ?3 the cutoff: a
// count whose last failure is at or before it starts again, as in
// [throttle.MemoryStore]. In the SET clause, unqualified columns are the old
// row's values.
const addFailureQuery = `
	INSERT INTO latch_login_failures (key, failures, last_failure)
	VALUES (?1, 1, ?2)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN last_failure <= ?3 THEN 1 ELSE failures + 1 END,
		last_failure = excluded.last_failure
	RETURNING failures, last_failure`

// The statements of SwapFailures. Each is a single statement whose WHERE
// clause or conflict target does the comparison, so that the swap is atomic
// across connections and processes: SQLite runs one writer at a time, and a
// statement sees the row as the writers before it left it. It swapped if it
// changed a row. ?1 is the key; for the insert, ?2 and ?3 are the new count
// and time; otherwise they are the old ones, and ?4 and ?5 the new ones.
const (
	insertFailuresQuery = `
		INSERT INTO latch_login_failures (key, failures, last_failure) VALUES (?1, ?2, ?3)
		ON CONFLICT (key) DO NOTHING`
	updateFailuresQuery = `
		UPDATE latch_login_failures SET failures = ?4, last_failure = ?5
		WHERE key = ?1 AND failures = ?2 AND last_failure = ?3`
	deleteFailuresQuery = `
		DELETE FROM latch_login_failures
		WHERE key = ?1 AND failures = ?2 AND last_failure = ?3`
)

// sweepEvery is how many AddFailure and SwapFailures calls recording a
// failure go by between deletions of stale failure records.
const sweepEvery = 1024

// Failures implements [throttle.Store].
func (db *DB) Failures(ctx context.Context, key string) (throttle.State, error) {
	var (
		st   throttle.State
		last int64
	)
	qctx, err := quick(ctx)
	if err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: failures: %w", err)
	}
	err = db.read.QueryRowContext(qctx, `SELECT failures, last_failure FROM latch_login_failures WHERE key = ?`, key).Scan(&st.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return throttle.State{}, nil
	} else if err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: failures: %w", err)
	}
	st.LastFailure = fromMicros(last)
	return st, nil
}

// AddFailure implements [throttle.Store]. Every so often it also deletes the
// records of every key whose last failure is older than forget, as
// SwapFailures does.
func (db *DB) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (throttle.State, error) {
	if err := db.sweepFailures(ctx, now, forget); err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: add failure: %w", err)
	}
	var (
		st   throttle.State
		last int64
	)
	err := db.relaxed(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, addFailureQuery, key, micros(now), micros(now.Add(-forget))).Scan(&st.Failures, &last)
	})
	if err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: add failure: %w", err)
	}
	st.LastFailure = fromMicros(last)
	return st, nil
}

// sweepFailures deletes, once every sweepEvery calls, the records of every
// key whose last failure is older than forget at now, so that failures from
// many addresses do not fill the disk. Limiters sharing a database should
// therefore agree on forget. The contract lets a record go once it is that
// old: a count would start again from it all the same, and a swap from it
// loses, so its caller reads again.
func (db *DB) sweepFailures(ctx context.Context, now time.Time, forget time.Duration) error {
	if db.failureWrites.Add(1)%sweepEvery != 0 {
		return nil
	}
	if _, err := db.execRelaxed(ctx, `DELETE FROM latch_login_failures WHERE last_failure <= ?`, micros(now.Add(-forget))); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// SwapFailures implements [throttle.Store]. A swap that records a failure
// sweeps stale records now and then, as AddFailure does, taking the new
// state's time as the present.
func (db *DB) SwapFailures(ctx context.Context, key string, old, new throttle.State, forget time.Duration) (bool, error) {
	if new.Failures > 0 {
		if err := db.sweepFailures(ctx, new.LastFailure, forget); err != nil {
			return false, fmt.Errorf("sqlitestore: swap failures: %w", err)
		}
	}
	var (
		res sql.Result
		err error
	)
	switch {
	case old.Failures == 0 && new.Failures == 0:
		// Nothing to write: swapped if there is still no record.
		cur, err := db.Failures(ctx, key)
		return err == nil && cur.Failures == 0, err
	case old.Failures == 0:
		res, err = db.execRelaxed(ctx, insertFailuresQuery, key, new.Failures, micros(new.LastFailure))
	case new.Failures == 0:
		res, err = db.execRelaxed(ctx, deleteFailuresQuery, key, old.Failures, micros(old.LastFailure))
	default:
		res, err = db.execRelaxed(ctx, updateFailuresQuery, key, old.Failures, micros(old.LastFailure), new.Failures, micros(new.LastFailure))
	}
	if err != nil {
		return false, fmt.Errorf("sqlitestore: swap failures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlitestore: swap failures: %w", err)
	}
	return n == 1, nil
}

// ResetFailures implements [throttle.Store].
func (db *DB) ResetFailures(ctx context.Context, key string) error {
	if _, err := db.execRelaxed(ctx, `DELETE FROM latch_login_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlitestore: reset failures: %w", err)
	}
	return nil
}
