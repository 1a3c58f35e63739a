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
	INSERT INTO login_failures (key, failures, last_failure)
	VALUES (?1, 1, ?2)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN last_failure <= ?3 THEN 1 ELSE failures + 1 END,
		last_failure = excluded.last_failure
	RETURNING failures, last_failure`

// sweepEvery is how many AddFailure calls go by between deletions of stale
// failure records.
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
	err = db.failures.QueryRowContext(qctx, key).Scan(&st.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return throttle.State{}, nil
	} else if err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: failures: %w", err)
	}
	st.LastFailure = fromMicros(last)
	return st, nil
}

// AddFailure implements [throttle.Store]. Every so often it also deletes the
// records of every key whose last failure is older than forget, so that
// failures from many addresses do not fill the disk. Limiters sharing a
// database should therefore agree on forget.
func (db *DB) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (throttle.State, error) {
	cutoff := micros(now.Add(-forget))
	if db.failuresAdded.Add(1)%sweepEvery == 0 {
		// The contract lets a record go once it is older than forget:
		// its next failure would start again from one all the same.
		if _, err := db.write.ExecContext(ctx, `DELETE FROM login_failures WHERE last_failure <= ?`, cutoff); err != nil {
			return throttle.State{}, fmt.Errorf("sqlitestore: add failure: sweep: %w", err)
		}
	}
	var (
		st   throttle.State
		last int64
	)
	err := db.addFailure.QueryRowContext(ctx, key, micros(now), cutoff).Scan(&st.Failures, &last)
	if err != nil {
		return throttle.State{}, fmt.Errorf("sqlitestore: add failure: %w", err)
	}
	st.LastFailure = fromMicros(last)
	return st, nil
}

// ResetFailures implements [throttle.Store].
func (db *DB) ResetFailures(ctx context.Context, key string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlitestore: reset failures: %w", err)
	}
	return nil
}
