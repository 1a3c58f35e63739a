package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
)

// versionTable records the migrations applied. It is named apart from
// goose's default, goose_db_version, so that an application's own goose
// migrations can live in the same file: sharing one table, each side would
// take the other's versions for its own and skip its schema.
const versionTable = "latch_goose_db_version"

// legacyVersionTable is where latch recorded its migrations before its
// tables had the latch_ prefix.
const legacyVersionTable = "goose_db_version"

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

// adopt brings a database made before latch's tables had the latch_ prefix
// to the names of the migrations: it renames the tables and their indexes,
// and the version table to versionTable, in one transaction, so that goose
// then finds the migrations applied and applies only the newer ones. It is
// done before goose runs, not as a migration, because migrations are
// applied in order and those after the old ones name the tables with the
// prefix.
//
// A database is taken for latch's only when all three old tables exist
// with latch's columns, none of the new ones does, and latch's migrations
// are recorded, in goose_db_version or already in latch_goose_db_version:
// an application's own users table or goose_db_version alone is never
// touched. When goose_db_version also holds versions that are not
// latch's, the application's migrations share it; there is no telling
// whose each row is, and adopt asks for latch's rows to be moved by hand
// rather than guess, then renames the tables once they are.
func adopt(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	// The writer's transactions take the write lock at BEGIN: a second
	// process opening the file waits here, then finds the work done.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	for _, t := range legacyTables {
		if ok, err := hasColumns(ctx, tx, t.name, t.columns); err != nil || !ok {
			return err
		}
		if ok, err := hasTable(ctx, tx, t.renamed); err != nil || ok {
			return err
		}
	}
	var stmts []string
	moved, err := hasTable(ctx, tx, versionTable)
	if err != nil {
		return err
	}
	if !moved {
		if ok, err := hasTable(ctx, tx, legacyVersionTable); err != nil || !ok {
			return err
		}
		if err := onlyOurs(ctx, tx, fsys); err != nil {
			return err
		}
		stmts = append(stmts, `ALTER TABLE `+legacyVersionTable+` RENAME TO `+versionTable)
	}
	for _, t := range legacyTables {
		stmts = append(stmts, `ALTER TABLE `+t.name+` RENAME TO `+t.renamed)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}

	// SQLite cannot rename an index; each is made again under the new
	// name from its stored definition, which the renames above pointed
	// at the renamed table, partial indexes' WHERE included. Indexes of
	// constraints (sqlite_autoindex_...) follow their table by themselves.
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND sql IS NOT NULL AND name NOT LIKE 'latch\_%' ESCAPE '\'
		AND tbl_name IN ('latch_users', 'latch_sessions', 'latch_login_failures')`)
	if err != nil {
		return err
	}
	stmts = stmts[:0]
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		// The index's name comes first in its definition.
		stmts = append(stmts, `DROP INDEX `+quote(name), strings.Replace(def, name, "latch_"+name, 1))
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return tx.Commit()
}

// quote returns name as an SQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// hasTable reports whether the database has a table of that name.
func hasTable(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

// hasColumns reports whether the table exists with all the columns.
func hasColumns(ctx context.Context, tx *sql.Tx, table string, columns []string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name IN (SELECT value FROM json_each(?))`,
		table, `["`+strings.Join(columns, `","`)+`"]`).Scan(&n)
	return n == len(columns), err
}

// migrationVersions returns the versions of the embedded migrations.
func migrationVersions(fsys fs.FS) ([]int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var vs []int64
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", n, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// onlyOurs returns an error when goose_db_version holds versions that none
// of the embedded migrations has.
func onlyOurs(ctx context.Context, tx *sql.Tx, fsys fs.FS) error {
	ours, err := migrationVersions(fsys)
	if err != nil {
		return err
	}
	var foreign []string
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT version_id FROM `+legacyVersionTable+` ORDER BY version_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		if v != 0 && !slices.Contains(ours, v) {
			foreign = append(foreign, strconv.FormatInt(v, 10))
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%s holds versions of other migrations (%s) beside latch's: the application's goose migrations share it. "+
			"Create %s as goose does (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now'))), "+
			"copy latch's rows into it, and open again: latch then renames its tables and leaves %s to the application",
			legacyVersionTable, strings.Join(foreign, ", "), versionTable, legacyVersionTable)
	}
	return nil
}
