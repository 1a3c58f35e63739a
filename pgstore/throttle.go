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
	INSERT INTO latch_login_failures AS f (key, failures, last_failure)
	VALUES ($1, 1, $2)
	ON CONFLICT (key) DO UPDATE SET
		failures = CASE WHEN f.last_failure <= $3 THEN 1 ELSE f.failures + 1 END,
		last_failure = excluded.last_failure
	RETURNING failures, last_failure`

// The statements of SwapFailures. Each is a single statement whose WHERE
// clause or conflict target does the comparison, so that the swap is atomic
// across connections and instances: an UPDATE or DELETE locks the row and,
// if another transaction changed it meanwhile, checks its condition again
// on the latest version; an INSERT waits for a concurrent insert of the same
// key and then does nothing. It swapped if it changed a row. $1 is the key;
// for the insert, $2 and $3 are the new count and time; otherwise they are
// the old ones, and $4 and $5 the new ones.
const (
	insertFailuresQuery = `
		INSERT INTO latch_login_failures (key, failures, last_failure) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`
	updateFailuresQuery = `
		UPDATE latch_login_failures SET failures = $4, last_failure = $5
		WHERE key = $1 AND failures = $2 AND last_failure = $3`
	deleteFailuresQuery = `
		DELETE FROM latch_login_failures
		WHERE key = $1 AND failures = $2 AND last_failure = $3`
)

// sweepEvery is how many AddFailure and SwapFailures calls recording a
// failure go by between deletions of stale failure records.
const sweepEvery = 1024

// Login failure counts commit without waiting for the disk (see relaxNote):
// a crash of PostgreSQL's machine may undo the last of them, which gives an
// attacker a few more tries, as a restart of Redis would.

// Keys are stored as bytea: they are built from what a login form sent, which
// need not be valid text, and must still be counted.

// Failures implements [throttle.Store].
func (db *DB) Failures(ctx context.Context, key string) (throttle.State, error) {
	st, err := read(db, func() (throttle.State, error) {
		var st throttle.State
		err := db.pool.QueryRow(ctx, `SELECT failures, last_failure FROM latch_login_failures WHERE key = $1`, []byte(key)).
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
// records of every key whose last failure is older than forget, as
// SwapFailures does.
func (db *DB) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (throttle.State, error) {
	if err := db.sweepFailures(ctx, now, forget); err != nil {
		return throttle.State{}, db.fail("add failure: sweep", err)
	}
	var st throttle.State
	_, err := db.change(ctx, []note{relaxNote}, func(row pgx.Row) error {
		return row.Scan(&st.Failures, &st.LastFailure)
	}, addFailureQuery, []byte(key), now, now.Add(-forget))
	if err != nil {
		return throttle.State{}, db.fail("add failure", err)
	}
	st.LastFailure = st.LastFailure.UTC()
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
	_, err := db.change(ctx, []note{relaxNote}, nil, `DELETE FROM latch_login_failures WHERE last_failure <= $1`, now.Add(-forget))
	return err
}

// SwapFailures implements [throttle.Store]. A swap that records a failure
// sweeps stale records now and then, as AddFailure does, taking the new
// state's time as the present.
func (db *DB) SwapFailures(ctx context.Context, key string, old, new throttle.State, forget time.Duration) (bool, error) {
	if new.Failures > 0 {
		if err := db.sweepFailures(ctx, new.LastFailure, forget); err != nil {
			return false, db.fail("swap failures: sweep", err)
		}
	}
	var (
		query string
		args  []any
	)
	switch {
	case old.Failures == 0 && new.Failures == 0:
		// Nothing to write: swapped if there is still no record.
		cur, err := db.Failures(ctx, key)
		return err == nil && cur.Failures == 0, err
	case old.Failures == 0:
		query, args = insertFailuresQuery, []any{[]byte(key), new.Failures, new.LastFailure}
	case new.Failures == 0:
		query, args = deleteFailuresQuery, []any{[]byte(key), old.Failures, old.LastFailure}
	default:
		query, args = updateFailuresQuery, []any{[]byte(key), old.Failures, old.LastFailure, new.Failures, new.LastFailure}
	}
	tag, err := db.change(ctx, []note{relaxNote}, nil, query, args...)
	if err != nil {
		return false, db.fail("swap failures", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ResetFailures implements [throttle.Store].
func (db *DB) ResetFailures(ctx context.Context, key string) error {
	if _, err := db.change(ctx, []note{relaxNote}, nil, `DELETE FROM latch_login_failures WHERE key = $1`, []byte(key)); err != nil {
		return db.fail("reset failures", err)
	}
	return nil
}
