package sqlitestore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/latchauth/latch/account"
)

var _ account.AdminStore = (*DB)(nil)

// adminColumns read a user's roles and disabled time with the user, by
// their primary keys, so every read of a user (and its cached copy) has
// them.
const adminColumns = `(SELECT group_concat(role, ' ') FROM latch_user_roles WHERE user_id = latch_users.id),
	(SELECT disabled_at FROM latch_disabled_users WHERE user_id = latch_users.id)`

// SetRole implements [account.AdminStore].
func (db *DB) SetRole(ctx context.Context, id int64, role string, on bool) error {
	query := `DELETE FROM latch_user_roles WHERE user_id = ?1 AND role = ?2`
	if on {
		query = `INSERT INTO latch_user_roles (user_id, role) SELECT id, ?2 FROM latch_users WHERE id = ?1 ON CONFLICT DO NOTHING`
	}
	res, err := db.write.ExecContext(ctx, query, id, role)
	db.cache.ForgetUser(id)
	return db.changedUser(ctx, "set role", id, res, err)
}

// SetDisabled implements [account.AdminStore].
func (db *DB) SetDisabled(ctx context.Context, id int64, at time.Time) error {
	query, args := `DELETE FROM latch_disabled_users WHERE user_id = ?`, []any{id}
	if !at.IsZero() {
		query = `INSERT INTO latch_disabled_users (user_id, disabled_at) SELECT id, ?2 FROM latch_users WHERE id = ?1
			ON CONFLICT (user_id) DO UPDATE SET disabled_at = excluded.disabled_at`
		args = append(args, micros(at))
	}
	res, err := db.write.ExecContext(ctx, query, args...)
	db.cache.ForgetUser(id)
	return db.changedUser(ctx, "set disabled", id, res, err)
}

// changedUser checks a write that may change no row for a user that
// exists (a role already given): only a missing user is ErrUserNotFound.
func (db *DB) changedUser(ctx context.Context, op string, id int64, res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	if _, err := db.userBy(ctx, `SELECT `+userColumns+` FROM latch_users WHERE id = ?`, "id", id); err != nil {
		return err
	}
	return nil
}

// likePattern returns a LIKE pattern matching text containing q, with
// LIKE's wildcards in q taken literally (escaped with '\').
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// SearchUsers implements [account.AdminStore]. SQLite's LIKE ignores the
// case of ASCII letters. It scans the users table from after, which an
// administrator's search can afford.
func (db *DB) SearchUsers(ctx context.Context, query string, after int64, limit int) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	pat := likePattern(query)
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+userColumns+` FROM latch_users
		WHERE id > ? AND (email LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\')
		ORDER BY id
		LIMIT ?`, after, pat, pat, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: search users: %w", err)
	}
	return collect(rows, "search users", scanUser)
}
