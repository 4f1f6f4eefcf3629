package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

const offlineAfter = 30 * time.Second

type fixture struct {
	db     *bun.DB
	st     *store.Store
	nodeID int64
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	bdb, err := db.Open(tb.Context(), testkit.Postgres(tb), db.DefaultPool())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = bdb.Close() })
	if err := migrations.Up(tb.Context(), bdb); err != nil {
		tb.Fatal(err)
	}
	st := store.New(bdb)
	r, err := st.CreateRegion(tb.Context(), "eu-1", "Europe")
	if err != nil {
		tb.Fatal(err)
	}
	n, err := st.CreateOutlineNode(tb.Context(), store.NewOutlineNode{RegionID: r.ID, InternalIP: "10.0.0.1", SSPort: 8388,
		SSMethod: "aes-128-gcm", SSPassword: "pw", MaxSessions: 10, HealthStatus: "unhealthy"})
	if err != nil {
		tb.Fatal(err)
	}
	return fixture{db: bdb, st: st, nodeID: n.ID}
}

func (f fixture) exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	if _, err := f.db.ExecContext(tb.Context(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func TestGatewayHeartbeatOrdering(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	now := time.Now()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return now.Add(d) } }
	cases := []struct {
		name        string
		status      string
		at          func() time.Time
		wantApplied bool
		wantStatus  string
	}{
		{"first heartbeat creates the row", "online", at(-time.Second), true, "online"},
		{"older heartbeat changes nothing", "draining", at(-2 * time.Second), false, "online"},
		{"newer heartbeat applies", "draining", at(0), true, "draining"},
		{"heartbeat from the future is capped at now", "online", at(time.Hour), true, "online"},
		{"capped heartbeat does not block the next one", "draining", time.Now, true, "draining"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := store.GatewayBeat{Name: "gw-1", RegionCode: "eu-1", Status: tc.status, Sessions: 1, At: tc.at()}
			applied, err := f.st.ApplyGatewayHeartbeat(ctx, b, offlineAfter)
			if err != nil || applied != tc.wantApplied {
				t.Fatalf("applied = %v, %v; want %v", applied, err, tc.wantApplied)
			}
			g, err := f.st.GatewayNodeByName(ctx, "gw-1")
			if err != nil || g.Status != tc.wantStatus || g.Region == nil || *g.Region != "eu-1" {
				t.Fatalf("gateway = %+v, %v; want status %s", g, err, tc.wantStatus)
			}
			if g.LastHeartbeatAt.After(time.Now()) {
				t.Fatalf("last_heartbeat_at %v is in the future", g.LastHeartbeatAt)
			}
		})
	}
	t.Run("heartbeat already too old is stored as offline", func(t *testing.T) {
		if _, err := f.st.ApplyGatewayHeartbeat(ctx, store.GatewayBeat{Name: "gw-old", Status: "online",
			At: time.Now().Add(-2 * offlineAfter)}, offlineAfter); err != nil {
			t.Fatal(err)
		}
		g, _ := f.st.GatewayNodeByName(ctx, "gw-old")
		if g.Status != "offline" || g.Region != nil {
			t.Fatalf("gateway = %+v", g)
		}
	})
}

func TestOutlineHeartbeatOrdering(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	now := time.Now()
	cases := []struct {
		name   string
		beat   store.OutlineBeat
		want   store.BeatResult
		health string
	}{
		{"first heartbeat applies", store.OutlineBeat{NodeID: f.nodeID, HealthStatus: "healthy", At: now.Add(-time.Second)}, store.BeatApplied, "healthy"},
		{"older heartbeat is stale", store.OutlineBeat{NodeID: f.nodeID, HealthStatus: "unhealthy", At: now.Add(-2 * time.Second)}, store.BeatStale, "healthy"},
		{"newer heartbeat applies", store.OutlineBeat{NodeID: f.nodeID, HealthStatus: "unhealthy", At: now}, store.BeatApplied, "unhealthy"},
		{"unknown node", store.OutlineBeat{NodeID: f.nodeID + 100, HealthStatus: "healthy", At: now}, store.BeatUnknownNode, "unhealthy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := f.st.ApplyOutlineHeartbeat(ctx, tc.beat, offlineAfter)
			if err != nil || got != tc.want {
				t.Fatalf("result = %v, %v; want %v", got, err, tc.want)
			}
			n, err := f.st.OutlineNodeByID(ctx, f.nodeID)
			if err != nil || n.HealthStatus != tc.health {
				t.Fatalf("node = %+v, %v; want %s", n, err, tc.health)
			}
		})
	}
}

func TestSweepStatements(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{"gw-dead", "gw-alive", "gw-restarted"} {
		if _, err := f.st.ApplyGatewayHeartbeat(ctx, store.GatewayBeat{Name: name, Status: "online", At: time.Now()}, offlineAfter); err != nil {
			t.Fatal(err)
		}
	}
	f.exec(t, "INSERT INTO gateway_nodes (name, status) VALUES ('gw-never', 'online')")
	f.exec(t, "UPDATE gateway_nodes SET last_heartbeat_at = ? WHERE name IN ('gw-dead', 'gw-restarted')", old)
	f.exec(t, "UPDATE outline_nodes SET last_heartbeat_at = ?, health_status = 'healthy'", old)

	start := func(id, gateway string, startedAt time.Time) {
		t.Helper()
		if r, err := f.st.StartSession(ctx, id, f.nodeID, gateway, startedAt); err != nil || r != store.SessionApplied {
			t.Fatalf("start %s = %v, %v", id, r, err)
		}
	}
	start("00000000-0000-4000-8000-000000000001", "gw-dead", old.Add(-time.Minute))
	start("00000000-0000-4000-8000-000000000002", "gw-alive", old)
	start("00000000-0000-4000-8000-000000000003", "gw-never", old)

	t.Run("silent gateways go offline, others keep their status", func(t *testing.T) {
		names, err := f.st.MarkSilentGatewaysOffline(ctx, offlineAfter)
		if err != nil || len(names) != 2 {
			t.Fatalf("marked = %v, %v; want gw-dead and gw-restarted", names, err)
		}
		again, err := f.st.MarkSilentGatewaysOffline(ctx, offlineAfter)
		if err != nil || len(again) != 0 {
			t.Fatalf("second sweep marked %v, %v", again, err)
		}
		for name, want := range map[string]string{"gw-alive": "online", "gw-never": "online", "gw-dead": "offline"} {
			if g, _ := f.st.GatewayNodeByName(ctx, name); g.Status != want {
				t.Errorf("%s = %s, want %s", name, g.Status, want)
			}
		}
	})
	t.Run("silent outline node goes offline", func(t *testing.T) {
		ids, err := f.st.MarkSilentOutlineNodesOffline(ctx, offlineAfter)
		if err != nil || len(ids) != 1 || ids[0] != f.nodeID {
			t.Fatalf("marked = %v, %v", ids, err)
		}
	})
	// A session of the restarted gateway, learned after it went offline and started after its
	// last heartbeat, belongs to the new incarnation whose first heartbeat is on its way.
	start("00000000-0000-4000-8000-000000000004", "gw-restarted", time.Now())
	t.Run("sessions of offline gateways end", func(t *testing.T) {
		n, err := f.st.EndSessionsOfOfflineGateways(ctx)
		if err != nil || n != 1 {
			t.Fatalf("ended = %d, %v; want 1 (the session of gw-dead)", n, err)
		}
		var active []string
		f.mustScan(t, &active, "SELECT session_id::text FROM outline_node_sessions WHERE ended_at IS NULL ORDER BY session_id")
		want := []string{"00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"}
		if len(active) != len(want) || active[0] != want[0] || active[1] != want[1] || active[2] != want[2] {
			t.Fatalf("active = %v, want %v", active, want)
		}
	})
	t.Run("old tombstones are purged, recent ones kept", func(t *testing.T) {
		f.exec(t, "UPDATE outline_node_sessions SET ended_at = ? WHERE session_id = '00000000-0000-4000-8000-000000000001'", old)
		if _, err := f.st.EndSession(ctx, "00000000-0000-4000-8000-000000000002", f.nodeID, "gw-alive", old, time.Now()); err != nil {
			t.Fatal(err)
		}
		n, err := f.st.PurgeTombstones(ctx, 30*time.Minute)
		if err != nil || n != 1 {
			t.Fatalf("purged = %d, %v; want 1", n, err)
		}
		if r, _ := f.st.StartSession(ctx, "00000000-0000-4000-8000-000000000002", f.nodeID, "gw-alive", old); r != store.SessionDuplicate {
			t.Fatalf("late start after a kept tombstone = %v, want duplicate", r)
		}
	})
	t.Run("counts by status", func(t *testing.T) {
		counts, err := f.st.CountNodesByStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, c := range counts {
			got[c.Kind+"/"+c.Status] = c.Count
		}
		if got["gateway/online"] != 2 || got["gateway/offline"] != 2 || got["outline/offline"] != 1 {
			t.Fatalf("counts = %v", got)
		}
	})
}

func (f fixture) mustScan(tb testing.TB, dest any, query string, args ...any) {
	tb.Helper()
	if err := f.db.NewRaw(query, args...).Scan(context.Background(), dest); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}
