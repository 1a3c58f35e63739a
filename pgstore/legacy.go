package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// legacyTables are latch's tables named without the prefix, with columns
// that together tell them from an application's tables of the same name.
var legacyTables = []struct {
	name, renamed string
	columns       []string
}{
	{"users", "latch_users", []string{"id", "email", "name", "password_hash", "created_at", "last_login_at"}},
	{"sessions", "latch_sessions", []string{"id", "user_id", "token_hash", "remember_hash", "remember", "fresh", "expires_at"}},
	{"login_failures", "latch_login_failures", []string{"key", "failures", "last_failure"}},
}

// adopt brings a schema made before latch's tables had the latch_ prefix to
// the names of the migrations: it renames the tables, their indexes and
// constraints, and the sequence of the users' IDs, in one transaction. It
// is done before goose runs, not as a migration, because migrations are
// applied in order and those after the old ones name the tables with the
// prefix.
//
// A schema is taken for latch's only when its version table exists and all
// three old tables exist with latch's columns, and none of the new ones:
// an application's own users table is never touched. The transaction holds
// the migrations' advisory lock, so that processes starting together
// rename once; goose takes the same lock after it.
func adopt(ctx context.Context, db *sql.DB, schema string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID(schema)); err != nil {
		return err
	}

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
		schema, versionTable).Scan(&n); err != nil || n == 0 {
		return err
	}
	for _, t := range legacyTables {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = ANY($3)`,
			schema, t.name, t.columns).Scan(&n); err != nil || n != len(t.columns) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
			schema, t.renamed).Scan(&n); err != nil || n != 0 {
			return err
		}
	}

	// The indexes of the tables, those of their primary keys and unique
	// constraints included: renaming one of those renames its constraint.
	var stmts []string
	rows, err := tx.QueryContext(ctx, `
		SELECT i.relname FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = $1 AND t.relname IN ('users', 'sessions', 'login_failures') AND i.relname NOT LIKE 'latch\_%'
		ORDER BY i.relname`, schema)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		stmts = append(stmts, `ALTER INDEX `+pgx.Identifier{schema, name}.Sanitize()+` RENAME TO `+pgx.Identifier{"latch_" + name}.Sanitize())
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, t := range legacyTables {
		stmts = append(stmts, `ALTER TABLE `+pgx.Identifier{schema, t.name}.Sanitize()+` RENAME TO `+pgx.Identifier{t.renamed}.Sanitize())
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}

	// The identity column's sequence keeps drawing where it was, under
	// the name a new schema gives it.
	var seq sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, pgx.Identifier{schema, "latch_users"}.Sanitize()).Scan(&seq); err != nil {
		return err
	}
	if seq.Valid && !strings.HasSuffix(seq.String, ".latch_users_id_seq") {
		if _, err := tx.ExecContext(ctx, `ALTER SEQUENCE `+seq.String+` RENAME TO latch_users_id_seq`); err != nil {
			return fmt.Errorf("rename %s: %w", seq.String, err)
		}
	}
	return tx.Commit()
}
