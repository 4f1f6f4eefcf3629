package noderegistry_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
)

type loadedNode struct {
	maxSessions int
	active      int
	health      string
}

func TestAssignOutline(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "empty")

	cases := []struct {
		name    string
		nodes   []loadedNode
		exclude []int // indexes into nodes
		ended   int   // ended sessions (tombstones) on node 0, which must not count
		want    int   // index into nodes of the expected node, or -1
		code    schemas.ErrorCode
		region  string // overrides the case's own region
	}{
		{name: "least loaded", nodes: []loadedNode{{10, 5, ""}, {10, 2, ""}, {10, 7, ""}}, want: 1},
		{name: "share of capacity not absolute count", nodes: []loadedNode{{10, 2, ""}, {100, 10, ""}}, want: 1},
		{name: "full node skipped", nodes: []loadedNode{{2, 2, ""}, {10, 9, ""}}, want: 1},
		{name: "over-full node skipped", nodes: []loadedNode{{2, 3, ""}, {10, 9, ""}}, want: 1},
		{name: "unhealthy skipped", nodes: []loadedNode{{10, 0, schemas.HealthUnhealthy}, {10, 5, ""}}, want: 1},
		{name: "offline skipped", nodes: []loadedNode{{10, 0, schemas.HealthOffline}, {10, 5, ""}}, want: 1},
		{name: "excluded skipped", nodes: []loadedNode{{10, 0, ""}, {10, 5, ""}}, exclude: []int{0}, want: 1},
		{name: "tie goes to lowest id", nodes: []loadedNode{{10, 3, ""}, {10, 3, ""}, {20, 6, ""}}, want: 0},
		{name: "ended sessions do not count", nodes: []loadedNode{{10, 1, ""}, {10, 2, ""}}, ended: 5, want: 0},
		{name: "all full", nodes: []loadedNode{{1, 1, ""}, {2, 2, ""}}, want: -1, code: schemas.CodeNoCapacity},
		{name: "none healthy", nodes: []loadedNode{{10, 0, schemas.HealthUnhealthy}, {10, 0, schemas.HealthOffline}}, want: -1, code: schemas.CodeNoCapacity},
		{name: "all excluded", nodes: []loadedNode{{10, 0, ""}}, exclude: []int{0}, want: -1, code: schemas.CodeNoCapacity},
		{name: "region without nodes", region: "empty", want: -1, code: schemas.CodeNoCapacity},
		{name: "unknown region", region: "nowhere", want: -1, code: schemas.CodeRegionUnknown},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			region := tc.region
			if region == "" {
				region = fmt.Sprintf("r%d", i)
				h.createRegion(t, region)
			}
			ids := make([]int64, len(tc.nodes))
			for j, n := range tc.nodes {
				ids[j] = h.createNode(t, region, nodeSpec{maxSessions: n.maxSessions, health: n.health}).ID
				h.addSessions(t, ids[j], n.active)
			}
			if tc.ended > 0 {
				h.addSessions(t, ids[0], tc.ended)
				if _, err := h.db.ExecContext(t.Context(), `UPDATE outline_node_sessions SET ended_at = now()
					WHERE session_id IN (SELECT session_id FROM outline_node_sessions WHERE outline_node_id = ? AND ended_at IS NULL LIMIT ?)`,
					ids[0], tc.ended); err != nil {
					t.Fatal(err)
				}
			}
			var exclude []int64
			for _, j := range tc.exclude {
				exclude = append(exclude, ids[j])
			}
			rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: region, UserID: 7, DeviceID: "dev-1", ExcludeNodeIDs: exclude})
			if err != nil {
				t.Fatalf("assign: %v", err)
			}
			if tc.want < 0 {
				if rep.OK || rep.Node != nil || rep.Error == nil || rep.Error.Code != tc.code {
					t.Fatalf("reply = %+v (error %+v), want refusal %s", rep, rep.Error, tc.code)
				}
				return
			}
			if !rep.OK || rep.Node == nil {
				t.Fatalf("reply = %+v (error %+v), want node %d", rep, rep.Error, ids[tc.want])
			}
			want := schemas.OutlineAssignment{NodeID: ids[tc.want], Region: region, InternalIP: "10.0.0.1",
				SSPort: rep.Node.SSPort, SSMethod: "chacha20-ietf-poly1305", SSPassword: testPassword}
			if *rep.Node != want {
				t.Fatalf("node = %+v, want %+v", *rep.Node, want)
			}
		})
	}

	t.Run("refusals are counted", func(t *testing.T) {
		if got := metric(t, inst.reg, "httvps_registry_assignments_total", map[string]string{"result": "NO_CAPACITY"}); got != 4 {
			t.Fatalf("NO_CAPACITY count = %v, want 4", got)
		}
		testkit.Eventually(t, waitTimeout, "every reply counted as ok", func() bool {
			return metric(t, inst.reg, "httvps_rpc_requests_total", map[string]string{"endpoint": "assign-outline", "result": "ok"}) == float64(len(cases))
		})
	})
}

func TestAssignOutlineRejectsMalformedRequests(t *testing.T) {
	h := newHarness(t)
	h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	many := make([]int64, 1001)
	cases := []struct {
		name    string
		req     any
		message string
	}{
		{"missing region", schemas.AssignOutlineRequest{UserID: 1, DeviceID: "d"}, "region"},
		{"missing user", schemas.AssignOutlineRequest{Region: "eu-1", DeviceID: "d"}, "user_id"},
		{"negative user", schemas.AssignOutlineRequest{Region: "eu-1", UserID: -3, DeviceID: "d"}, "user_id"},
		{"missing device", schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1}, "device_id"},
		{"device id with a dot", schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "a.b"}, "device_id"},
		{"region with a wildcard", schemas.AssignOutlineRequest{Region: "eu-*", UserID: 1, DeviceID: "d"}, "region"},
		{"too many exclusions", schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d", ExcludeNodeIDs: many}, "exclude_node_ids"},
		{"unknown field", map[string]any{"region": "eu-1", "user_id": 1, "device_id": "d", "zone": "x"}, "unknown field"},
		{"wrong type", map[string]any{"region": "eu-1", "user_id": "one", "device_id": "d"}, "user_id"},
		{"not an object", []int{1, 2}, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rpc.Call[schemas.AssignOutlineReply](t.Context(), h.nc, schemas.SubjectAssignOutline, tc.req, callTimeout)
			if rpcCode(err) != schemas.CodeInvalidArgument || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want INVALID_ARGUMENT mentioning %q", err, tc.message)
			}
		})
	}
}
