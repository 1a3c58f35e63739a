package pgstore

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/latchauth/latch/account"
)

var _ account.AdminStore = (*DB)(nil)

// adminColumns read a user's roles and disabled time with the user, by
// their primary keys, so every read of a user (and its cached copy) has
// them.
const adminColumns = `(SELECT string_agg(role, ' ' ORDER BY role) FROM latch_user_roles WHERE user_id = latch_users.id),
	(SELECT disabled_at FROM latch_disabled_users WHERE user_id = latch_users.id)`

// SetRole implements [account.AdminStore].
func (db *DB) SetRole(ctx context.Context, id int64, role string, on bool) error {
	query := `DELETE FROM latch_user_roles WHERE user_id = $1 AND role = $2`
	if on {
		query = `INSERT INTO latch_user_roles (user_id, role) SELECT id, $2 FROM latch_users WHERE id = $1 ON CONFLICT DO NOTHING`
	}
	tag, err := db.changeUser(ctx, id, nil, query, id, role)
	return db.changedUser(ctx, "set role", id, tag, err)
}

// SetDisabled implements [account.AdminStore].
func (db *DB) SetDisabled(ctx context.Context, id int64, at time.Time) error {
	query, args := `DELETE FROM latch_disabled_users WHERE user_id = $1`, []any{id}
	if !at.IsZero() {
		query = `INSERT INTO latch_disabled_users (user_id, disabled_at) SELECT id, $2 FROM latch_users WHERE id = $1
			ON CONFLICT (user_id) DO UPDATE SET disabled_at = excluded.disabled_at`
		args = append(args, at)
	}
	tag, err := db.changeUser(ctx, id, nil, query, args...)
	return db.changedUser(ctx, "set disabled", id, tag, err)
}

// changedUser checks a write that may change no row for a user that
// exists (a role already given): only a missing user is ErrUserNotFound.
func (db *DB) changedUser(ctx context.Context, op string, id int64, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return db.fail(op, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM latch_users WHERE id = $1)`, id).Scan(&exists); err != nil {
		return db.fail(op, err)
	}
	if !exists {
		return account.ErrUserNotFound
	}
	return nil
}

// SearchUsers implements [account.AdminStore] with ILIKE, LIKE's wildcards
// in query taken literally. It scans the users table from after, which an
// administrator's search can afford.
func (db *DB) SearchUsers(ctx context.Context, query string, after int64, limit int) ([]account.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(query) + "%"
	return read(db, func() ([]account.User, error) {
		rows, err := db.pool.Query(ctx, `
			SELECT `+userColumns+` FROM latch_users
			WHERE id > $1 AND (email ILIKE $2 OR name ILIKE $2)
			ORDER BY id
			LIMIT $3`, after, pat, limit)
		if err != nil {
			return nil, db.fail("search users", err)
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (account.User, error) { return scanUser(row) })
		if err != nil {
			return nil, db.fail("search users", err)
		}
		return list, nil
	})
}
