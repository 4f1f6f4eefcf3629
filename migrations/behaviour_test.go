package migrations_test

import (
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	tests := []struct {
		name, query, want string
	}{
		{"user status", "SELECT status FROM users WHERE id = 1", "active"},
		{"device status", "SELECT status FROM devices WHERE id = 1", "active"},
		{"device token version", "SELECT token_version::text FROM devices WHERE id = 1", "1"},
		{"subscription status", "SELECT status FROM subscriptions WHERE user_id = 1", "active"},
		{"outline health", "SELECT health_status FROM outline_nodes WHERE id = 1", "healthy"},
		{"gateway status", "SELECT status FROM gateway_nodes WHERE id = 1", "online"},
		{"gateway load", "SELECT concat_ws(',', sessions, streams, bytes_up_per_sec, bytes_down_per_sec) FROM gateway_nodes WHERE id = 1", "0,0,0,0"},
		{"session counters", "SELECT concat_ws(',', bytes_up, bytes_down, last_seq, ended_at IS NULL) FROM sessions", "0,0,0,t"},
		{"usage counters", "SELECT concat_ws(',', bytes_up, bytes_down) FROM usage_periods", "0,0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := bdb.NewRaw(tt.query).Scan(t.Context(), &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeletes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		delete string
		checks map[string]int64
		state  string
	}{
		{
			name:   "user cascades to what it owns and keeps session history",
			delete: "DELETE FROM users WHERE id = 1",
			checks: map[string]int64{
				"SELECT count(*) FROM devices":                          0,
				"SELECT count(*) FROM subscriptions":                    0,
				"SELECT count(*) FROM usage_periods":                    0,
				"SELECT count(*) FROM usage_limit_events":               0,
				"SELECT count(*) FROM sessions WHERE user_id IS NULL":   1,
				"SELECT count(*) FROM sessions WHERE device_id IS NULL": 1,
			},
		},
		{
			name:   "outline node drops its live sessions and detaches history",
			delete: "DELETE FROM outline_nodes WHERE id = 1",
			checks: map[string]int64{
				"SELECT count(*) FROM outline_node_sessions":                  0,
				"SELECT count(*) FROM sessions WHERE outline_node_id IS NULL": 1,
			},
		},
		{
			name:   "gateway detaches history",
			delete: "DELETE FROM gateway_nodes WHERE id = 1",
			checks: map[string]int64{
				"SELECT count(*) FROM sessions WHERE gateway_node_id IS NULL AND gateway_node_name = 'gw-1'": 1,
			},
		},
		{name: "plan in use", delete: "DELETE FROM plans WHERE id = 1", state: foreignKeyViolation},
		{name: "region in use", delete: "DELETE FROM regions WHERE id = 1", state: foreignKeyViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bdb := migratedDB(t)
			seed(t, bdb)
			_, err := bdb.ExecContext(t.Context(), tt.delete)
			if got := sqlState(err); got != tt.state {
				t.Fatalf("SQLSTATE %q (%v), want %q", got, err, tt.state)
			}
			for query, want := range tt.checks {
				if got := queryInt(t, bdb, query); got != want {
					t.Errorf("%s = %d, want %d", query, got, want)
				}
			}
		})
	}
}

func TestUpdatedAtTrigger(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, table := range []string{"users", "devices", "plans", "regions", "gateway_nodes", "outline_nodes"} {
		t.Run(table, func(t *testing.T) {
			exec(t, bdb, "UPDATE ? SET created_at = ?, updated_at = ? WHERE id = 1", bun.Ident(table), past, past)
			var explicit time.Time
			if err := bdb.NewRaw("SELECT updated_at FROM ? WHERE id = 1", bun.Ident(table)).Scan(t.Context(), &explicit); err != nil {
				t.Fatal(err)
			}
			if !explicit.Equal(past) {
				t.Fatalf("explicit updated_at overwritten: %v", explicit)
			}
			exec(t, bdb, "UPDATE ? SET created_at = created_at WHERE id = 1", bun.Ident(table))
			var bumped time.Time
			if err := bdb.NewRaw("SELECT updated_at FROM ? WHERE id = 1", bun.Ident(table)).Scan(t.Context(), &bumped); err != nil {
				t.Fatal(err)
			}
			if !bumped.After(past) {
				t.Fatalf("updated_at not bumped: %v", bumped)
			}
		})
	}
}

func TestUsageTotalsAreMonotonic(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	const apply = `UPDATE sessions SET bytes_up = GREATEST(bytes_up, ?), bytes_down = GREATEST(bytes_down, ?), last_seq = GREATEST(last_seq, ?)
		WHERE id = '00000000-0000-0000-0000-000000000001'`
	for _, r := range []struct{ up, down, seq int64 }{{100, 10, 1}, {300, 30, 3}, {200, 20, 2}, {300, 30, 3}} {
		exec(t, bdb, apply, r.up, r.down, r.seq)
	}
	var got string
	if err := bdb.NewRaw("SELECT concat_ws(',', bytes_up, bytes_down, last_seq) FROM sessions").Scan(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	if got != "300,30,3" {
		t.Fatalf("totals %s after reordered and repeated reports, want 300,30,3", got)
	}
}
