package sqlitestore

import (
	"strings"
	"testing"
)

// TestAuditQueryPlans checks that a page of a user's activity is read from
// the index on (user_id, id), in order, so that its cost does not grow
// with the user's history, and that a user's roles and disabled state are
// read by key.
func TestAuditQueryPlans(t *testing.T) {
	db := openTestDB(t)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{auditPageQuery, []string{"SEARCH latch_audit_events USING INDEX latch_audit_events_user_id"}},
		{`SELECT ` + userColumns + ` FROM latch_users WHERE id = ?`, []string{"SEARCH latch_user_roles USING PRIMARY KEY", "SEARCH latch_disabled_users USING INTEGER PRIMARY KEY"}},
	} {
		rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+tt.query, "1", 2, 3)
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s\nplan: %s\nwant %q", tt.query, all, w)
			}
		}
		if strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN latch_") {
			t.Errorf("%s\nplan: %s\nwant no sort and no scan", tt.query, all)
		}
	}
}
