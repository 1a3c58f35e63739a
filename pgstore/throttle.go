package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchauth/latch/throttle"
)

// addFailureQuery counts one failure in a single statement, so concurrent
// failures, from this process or another, can neither be lost nor both start
// a new count: on a conflict PostgreSQL locks the existing row and computes
// the update from its latest version. $1 is the key, $2 the time of the
// failure and $3 the cutoff: a count whose last failure is at or before it
// starts again, as in [throttle.MemoryStore].
const addFailureQuery = `
	INSERT INTO login_failures AS f (key, failures, last_failure)
	VALUES ($1, 1, $2)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN f.last_failure <= $3 THEN 1 ELSE f.failures + 1 END,
		last_failure = excluded.last_failure
	RETURNING failures, last_failure`

// sweepEvery is how many AddFailure calls go by between deletions of stale
// failure records.
const sweepEvery = 1024

// Keys are stored as bytea: they are built from what a login form sent, which
// need not be valid text, and must still be counted.

// Failures implements [throttle.Store].
func (db *DB) Failures(ctx context.Context, key string) (throttle.State, error) {
	st, err := read(db, func() (throttle.State, error) {
		var st throttle.State
		err := db.pool.QueryRow(ctx, `SELECT failures, last_failure FROM login_failures WHERE key = $1`, []byte(key)).
			Scan(&st.Failures, &st.LastFailure)
		return st, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return throttle.State{}, nil
	} else if err != nil {
		return throttle.State{}, db.fail("failures", err)
	}
	st.LastFailure = st.LastFailure.UTC()
	return st, nil
}

// AddFailure implements [throttle.Store]. Every so often it also deletes the
// records of every key whose last failure is older than forget, so that
// failures from many addresses do not fill the disk. Limiters sharing a
// database should therefore agree on forget.
func (db *DB) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (throttle.State, error) {
	cutoff := now.Add(-forget)
	if db.failuresAdded.Add(1)%sweepEvery == 0 {
		// The contract lets a record go once it is older than forget:
		// its next failure would start again from one all the same.
		if _, err := db.pool.Exec(ctx, `DELETE FROM login_failures WHERE last_failure <= $1`, cutoff); err != nil {
			return throttle.State{}, db.fail("add failure: sweep", err)
		}
	}
	var st throttle.State
	err := db.pool.QueryRow(ctx, addFailureQuery, []byte(key), now, cutoff).Scan(&st.Failures, &st.LastFailure)
	if err != nil {
		return throttle.State{}, db.fail("add failure", err)
	}
	st.LastFailure = st.LastFailure.UTC()
	return st, nil
}

// ResetFailures implements [throttle.Store].
func (db *DB) ResetFailures(ctx context.Context, key string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, []byte(key)); err != nil {
		return db.fail("reset failures", err)
	}
	return nil
}
