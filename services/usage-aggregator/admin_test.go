package usageaggregator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
)

func (h *harness) admin(t *testing.T, resource, verb string, req any) (schemas.AdminReply, error) {
	t.Helper()
	return rpc.Call[schemas.AdminReply](t.Context(), h.nc, schemas.AdminSubject(resource, verb), req, 5*time.Second)
}

func TestAdminCommands(t *testing.T) {
	h := newHarness(t)
	h.start(t, testConfig())
	f := h.sessionFixture(t)
	h.subscribe(t, f.user, h.createPlan(t, "0.000002"))
	other := h.sessionFixture(t)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	s1, s2, s3, s4 := newSessionID(), newSessionID(), newSessionID(), newSessionID()
	f.startedOn(t, s1, "gw-a", start)
	f.startedOn(t, s2, "gw-a", start.Add(time.Minute))
	f.startedOn(t, s3, "gw-b", start.Add(2*time.Minute))
	other.startedOn(t, s4, "gw-a", start.Add(3*time.Minute))
	f.usage(t, s1, 1, 100, 200, true)
	f.usageOn(t, s3, "gw-b", 1, 300, 400, true)
	f.ended(t, s2, start.Add(time.Minute), start.Add(30*time.Minute), 2, 10, 20, schemas.EndReasonClientClosed, "ended:"+s2)
	other.usage(t, s4, 1, 5, 6, true)
	f.settle(t)
	previous := periodStart(periodStart(time.Now()).AddDate(0, 0, -1))
	h.exec(t, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down) VALUES (?, ?, 7, 8)`, f.user, previous.Format(dateLayout))
	userFilter := strconv.FormatInt(f.user, 10)

	t.Run("sessions list", func(t *testing.T) {
		cases := []struct {
			name   string
			req    schemas.AdminRequest
			total  int64
			wantID []string
		}{
			{"all", schemas.AdminRequest{}, 4, []string{s4, s3, s2, s1}},
			{"by user", schemas.AdminRequest{Filter: map[string]string{"user_id": userFilter}}, 3, []string{s3, s2, s1}},
			{"by device id", schemas.AdminRequest{Filter: map[string]string{"device_id": strconv.FormatInt(f.device, 10)}}, 3, []string{s3, s2, s1}},
			{"by device uuid", schemas.AdminRequest{Filter: map[string]string{"device_id": other.uuid}}, 1, []string{s4}},
			{"by gateway", schemas.AdminRequest{Filter: map[string]string{"gateway": "gw-b"}}, 1, []string{s3}},
			{"active", schemas.AdminRequest{Filter: map[string]string{"active": "true"}}, 3, []string{s4, s3, s1}},
			{"ended of user", schemas.AdminRequest{Filter: map[string]string{"active": "false", "user_id": userFilter}}, 1, []string{s2}},
			{"page", schemas.AdminRequest{Limit: 2, Offset: 1}, 4, []string{s3, s2}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rep, err := h.admin(t, schemas.ResourceSessions, schemas.VerbList, c.req)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				var rows []map[string]any
				if err := json.Unmarshal(rep.Data, &rows); err != nil {
					t.Fatalf("data %s: %v", rep.Data, err)
				}
				var ids []string
				for _, r := range rows {
					ids = append(ids, r["id"].(string))
				}
				if !rep.OK || rep.Total != c.total || fmt.Sprint(ids) != fmt.Sprint(c.wantID) {
					t.Errorf("ok=%v total=%d ids=%v, want total %d ids %v", rep.OK, rep.Total, ids, c.total, c.wantID)
				}
			})
		}
	})

	t.Run("sessions get", func(t *testing.T) {
		rep, err := h.admin(t, schemas.ResourceSessions, schemas.VerbGet, schemas.AdminRequest{Key: s2})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		var got map[string]any
		if err := json.Unmarshal(rep.Data, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"id": s2, "user_id": float64(f.user), "device_id": float64(f.device), "device_uuid": f.uuid,
			"gateway_node_name": "gw-a", "gateway_node_id": float64(f.gateway), "outline_node_id": float64(f.outline),
			"region": "ru-1", "started_at": start.Add(time.Minute).Format(time.RFC3339Nano),
			"ended_at": start.Add(30 * time.Minute).Format(time.RFC3339Nano), "end_reason": schemas.EndReasonClientClosed,
			"bytes_up": float64(10), "bytes_down": float64(20), "total_bytes": float64(30), "last_seq": float64(2), "active": false,
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v (%T), want %v", k, got[k], got[k], v)
			}
		}
		for _, k := range []string{"created_at", "updated_at"} {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(got[k])); err != nil {
				t.Errorf("%s = %v: not RFC 3339", k, got[k])
			}
		}
	})

	t.Run("usage get", func(t *testing.T) {
		rep, err := h.admin(t, schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: f.user})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		var got usageObject
		if err := json.Unmarshal(rep.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.UserID != f.user || got.PeriodStart != periodStart(time.Now()).Format(dateLayout) ||
			got.BytesUp != 410 || got.BytesDown != 620 || got.TotalBytes != 1030 ||
			got.TrafficLimitBytes == nil || *got.TrafficLimitBytes != 2000 || got.RemainingBytes == nil || *got.RemainingBytes != 970 {
			t.Errorf("usage %s", rep.Data)
		}
		rep, err = h.admin(t, schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: other.user})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		var raw map[string]any
		if err := json.Unmarshal(rep.Data, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["traffic_limit_bytes"] != nil || raw["remaining_bytes"] != nil || raw["total_bytes"] != float64(11) {
			t.Errorf("user without subscription: %s, want null limit and remaining, total 11", rep.Data)
		}
		h.subscribe(t, other.user, h.createPlan(t, ""))
		rep, err = h.admin(t, schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: other.user})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		raw = nil
		if err := json.Unmarshal(rep.Data, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["traffic_limit_bytes"] != nil || raw["remaining_bytes"] != nil {
			t.Errorf("user on an unlimited plan: %s, want null limit and remaining", rep.Data)
		}
	})

	t.Run("usage list", func(t *testing.T) {
		rep, err := h.admin(t, schemas.ResourceUsage, schemas.VerbList, schemas.AdminRequest{Filter: map[string]string{"user_id": userFilter}})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var got []periodObject
		if err := json.Unmarshal(rep.Data, &got); err != nil {
			t.Fatal(err)
		}
		if rep.Total != 2 || len(got) != 2 || got[0].TotalBytes != 1030 || got[1].PeriodStart != previous.Format(dateLayout) || got[1].TotalBytes != 15 {
			t.Errorf("periods total=%d %s", rep.Total, rep.Data)
		}
		rep, err = h.admin(t, schemas.ResourceUsage, schemas.VerbList, schemas.AdminRequest{})
		if err != nil || rep.Total != 3 {
			t.Errorf("all periods: total=%d err=%v, want 3", rep.Total, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name     string
			resource string
			verb     string
			req      any
			code     schemas.ErrorCode
			message  string
		}{
			{"unknown filter", schemas.ResourceSessions, schemas.VerbList, schemas.AdminRequest{Filter: map[string]string{"status": "x"}},
				schemas.CodeInvalidArgument, "filter status: unknown, allowed filters are user_id, device_id, gateway, active"},
			{"bad active", schemas.ResourceSessions, schemas.VerbList, schemas.AdminRequest{Filter: map[string]string{"active": "yes"}},
				schemas.CodeInvalidArgument, `filter active: must be true or false, got "yes"`},
			{"bad user filter", schemas.ResourceUsage, schemas.VerbList, schemas.AdminRequest{Filter: map[string]string{"user_id": "abc"}},
				schemas.CodeInvalidArgument, `filter user_id: must be a positive integer, got "abc"`},
			{"limit too big", schemas.ResourceSessions, schemas.VerbList, schemas.AdminRequest{Limit: 501},
				schemas.CodeInvalidArgument, "limit: must be from 1 to 500 (0 means 50)"},
			{"negative offset", schemas.ResourceUsage, schemas.VerbList, schemas.AdminRequest{Offset: -1},
				schemas.CodeInvalidArgument, "offset: must not be negative"},
			{"session by id", schemas.ResourceSessions, schemas.VerbGet, schemas.AdminRequest{ID: 5},
				schemas.CodeInvalidArgument, "key: the session uuid is required (sessions have no numeric id)"},
			{"session key not a uuid", schemas.ResourceSessions, schemas.VerbGet, schemas.AdminRequest{Key: "abc"},
				schemas.CodeInvalidArgument, `key: must be a session uuid, got "abc"`},
			{"unknown session", schemas.ResourceSessions, schemas.VerbGet, schemas.AdminRequest{Key: "00000000-0000-4000-8000-000000000000"},
				schemas.CodeNotFound, "session 00000000-0000-4000-8000-000000000000 not found"},
			{"usage without id", schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{Key: "x"},
				schemas.CodeInvalidArgument, "id: the user id is required"},
			{"usage of unknown user", schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: 987654},
				schemas.CodeNotFound, "user 987654 not found"},
			{"unknown request field", schemas.ResourceUsage, schemas.VerbGet, json.RawMessage(`{"id":1,"bogus":true}`),
				schemas.CodeInvalidArgument, `malformed request: json: unknown field "bogus"`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := h.admin(t, c.resource, c.verb, c.req)
				re, ok := rpc.AsRPCError(err)
				if !ok || re.Code != c.code || re.Message != c.message {
					t.Errorf("error %v, want %s: %s", err, c.code, c.message)
				}
			})
		}
	})
}
