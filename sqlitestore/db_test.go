package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestPragmas checks that the settings given in the DSNs reach every
// connection of both pools.
func TestPragmas(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	tests := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer", db.write, "journal_mode", "wal"},
		{"writer", db.write, "synchronous", "2"}, // FULL
		{"writer", db.write, "busy_timeout", "10000"},
		{"writer", db.write, "foreign_keys", "1"},
		{"writer", db.write, "query_only", "0"},
		{"reader", db.read, "journal_mode", "wal"},
		{"reader", db.read, "busy_timeout", "10000"},
		{"reader", db.read, "foreign_keys", "1"},
		{"reader", db.read, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Errorf("%s: PRAGMA %s: %v", tt.pool, tt.pragma, err)
		} else if got != tt.want {
			t.Errorf("%s: PRAGMA %s = %s; want %s", tt.pool, tt.pragma, got, tt.want)
		}
	}

	if _, err := db.read.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
		t.Errorf("reader: DELETE FROM users = nil error; want a query_only error")
	}
	if got := db.write.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer: MaxOpenConnections = %d; want 1", got)
	}
}
