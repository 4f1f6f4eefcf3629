package noderegistry_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

type adminStep struct {
	name     string
	resource string
	verb     string
	req      schemas.AdminRequest
	code     schemas.ErrorCode // "" when the call must succeed
	mention  string            // the error message must contain this (names the field)
	check    func(t *testing.T, rep schemas.AdminReply)
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func outlineBody(edit func(m map[string]any)) json.RawMessage {
	m := map[string]any{"region": "eu-1", "name": "eu-a", "internal_ip": "10.0.0.5", "ss_port": 8388,
		"ss_method": "aes-256-gcm", "ss_password": testPassword, "max_sessions": 100}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func wantData(want map[string]any) func(t *testing.T, rep schemas.AdminReply) {
	return func(t *testing.T, rep schemas.AdminReply) {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal(rep.Data, &got); err != nil {
			t.Fatalf("data %s: %v", rep.Data, err)
		}
		for k, v := range want {
			if gb, wb := mustJSON(got[k]), mustJSON(v); gb != wb {
				t.Errorf("%s = %s, want %s (data %s)", k, gb, wb, rep.Data)
			}
		}
	}
}

func wantList(n int, total int64) func(t *testing.T, rep schemas.AdminReply) {
	return func(t *testing.T, rep schemas.AdminReply) {
		t.Helper()
		var items []map[string]any
		if err := json.Unmarshal(rep.Data, &items); err != nil {
			t.Fatalf("data %s: %v", rep.Data, err)
		}
		if len(items) != n || rep.Total != total {
			t.Fatalf("got %d items, total %d; want %d, total %d (data %s)", len(items), rep.Total, n, total, rep.Data)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAdminCommands(t *testing.T) {
	h := newHarness(t)
	h.start(t, fastConfig())
	const (
		R = schemas.ResourceRegions
		O = schemas.ResourceOutlineNodes
		G = schemas.ResourceGatewayNodes
	)
	steps := []adminStep{
		{name: "region create", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"eu-1","name":"Europe 1"}`)},
			check: wantData(map[string]any{"id": 1, "code": "eu-1", "name": "Europe 1"})},
		{name: "region create second", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"us-1","name":"US 1"}`)}},
		{name: "region create duplicate code", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"eu-1","name":"again"}`)},
			code: schemas.CodeConflict, mention: "eu-1"},
		{name: "region create bad code", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"eu 1","name":"x"}`)},
			code: schemas.CodeInvalidArgument, mention: "code"},
		{name: "region create missing name", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"eu-2"}`)},
			code: schemas.CodeInvalidArgument, mention: "name"},
		{name: "region create unknown field", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"code":"eu-2","name":"x","zone":"a"}`)},
			code: schemas.CodeInvalidArgument, mention: "zone"},
		{name: "region create without body", resource: R, verb: schemas.VerbCreate, code: schemas.CodeInvalidArgument, mention: "body"},
		{name: "region create body not an object", resource: R, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`["eu-2"]`)},
			code: schemas.CodeInvalidArgument, mention: "body"},
		{name: "region get by id", resource: R, verb: schemas.VerbGet, req: schemas.AdminRequest{ID: 2}, check: wantData(map[string]any{"code": "us-1"})},
		{name: "region get by code", resource: R, verb: schemas.VerbGet, req: schemas.AdminRequest{Key: "eu-1"}, check: wantData(map[string]any{"id": 1})},
		{name: "region get unknown id", resource: R, verb: schemas.VerbGet, req: schemas.AdminRequest{ID: 99}, code: schemas.CodeNotFound},
		{name: "region get unknown code", resource: R, verb: schemas.VerbGet, req: schemas.AdminRequest{Key: "mars"}, code: schemas.CodeNotFound},
		{name: "region get without id or key", resource: R, verb: schemas.VerbGet, code: schemas.CodeInvalidArgument, mention: "key"},
		{name: "region list", resource: R, verb: schemas.VerbList, check: wantList(2, 2)},
		{name: "region list page", resource: R, verb: schemas.VerbList, req: schemas.AdminRequest{Limit: 1, Offset: 1}, check: wantList(1, 2)},
		{name: "region list past the end", resource: R, verb: schemas.VerbList, req: schemas.AdminRequest{Offset: 10}, check: wantList(0, 2)},
		{name: "region list limit too big", resource: R, verb: schemas.VerbList, req: schemas.AdminRequest{Limit: 501}, code: schemas.CodeInvalidArgument, mention: "limit"},
		{name: "region list negative offset", resource: R, verb: schemas.VerbList, req: schemas.AdminRequest{Offset: -1}, code: schemas.CodeInvalidArgument, mention: "offset"},
		{name: "region list unknown filter", resource: R, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"code": "eu-1"}},
			code: schemas.CodeInvalidArgument, mention: "code"},

		{name: "outline create", resource: O, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: outlineBody(nil)},
			check: wantData(map[string]any{"id": 1, "region_id": 1, "region": "eu-1", "name": "eu-a", "internal_ip": "10.0.0.5", "ss_port": 8388,
				"ss_method": "aes-256-gcm", "max_sessions": 100, "active_sessions": 0, "health_status": "healthy", "last_heartbeat_at": nil})},
		{name: "outline create by region id with health", resource: O, verb: schemas.VerbCreate,
			req: schemas.AdminRequest{Body: outlineBody(func(m map[string]any) {
				delete(m, "region")
				m["region_id"], m["ss_port"], m["health_status"], m["internal_ip"] = 2, 8389, "unhealthy", "outline.internal"
			})},
			check: wantData(map[string]any{"region": "us-1", "health_status": "unhealthy", "internal_ip": "outline.internal"})},
		{name: "outline create region and region id agree", resource: O, verb: schemas.VerbCreate,
			req: schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["region_id"], m["ss_port"] = 1, 8390 })}},
		{name: "outline create region and region id disagree", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["region_id"], m["ss_port"] = 2, 8391 })},
			code: schemas.CodeInvalidArgument, mention: "region_id"},
		{name: "outline create duplicate address", resource: O, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: outlineBody(nil)},
			code: schemas.CodeConflict, mention: "10.0.0.5:8388"},
		{name: "outline create unknown region", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["region"] = "mars" })},
			code: schemas.CodeInvalidArgument, mention: "region"},
		{name: "outline create unknown region id", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { delete(m, "region"); m["region_id"] = 77 })},
			code: schemas.CodeInvalidArgument, mention: "region_id"},
		{name: "outline create without region", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { delete(m, "region") })},
			code: schemas.CodeInvalidArgument, mention: "region"},
		{name: "outline create unsupported cipher", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["ss_method"] = "aes-256-cfb" })},
			code: schemas.CodeInvalidArgument, mention: "ss_method"},
		{name: "outline create port zero", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["ss_port"] = 0 })},
			code: schemas.CodeInvalidArgument, mention: "ss_port"},
		{name: "outline create port too big", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["ss_port"] = 70000 })},
			code: schemas.CodeInvalidArgument, mention: "ss_port"},
		{name: "outline create bad address", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["internal_ip"] = "10.0.0.300" })},
			code: schemas.CodeInvalidArgument, mention: "internal_ip"},
		{name: "outline create empty password", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["ss_password"] = "" })},
			code: schemas.CodeInvalidArgument, mention: "ss_password"},
		{name: "outline create zero max sessions", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["max_sessions"] = 0 })},
			code: schemas.CodeInvalidArgument, mention: "max_sessions"},
		{name: "outline create bad health", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["health_status"] = "fine" })},
			code: schemas.CodeInvalidArgument, mention: "health_status"},
		{name: "outline create port as text", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["ss_port"] = "8388" })},
			code: schemas.CodeInvalidArgument, mention: "ss_port"},
		{name: "outline create unknown field", resource: O, verb: schemas.VerbCreate,
			req:  schemas.AdminRequest{Body: outlineBody(func(m map[string]any) { m["password"] = "x" })},
			code: schemas.CodeInvalidArgument, mention: "password"},
		{name: "outline get", resource: O, verb: schemas.VerbGet, req: schemas.AdminRequest{ID: 1}, check: wantData(map[string]any{"name": "eu-a"})},
		{name: "outline get unknown", resource: O, verb: schemas.VerbGet, req: schemas.AdminRequest{ID: 99}, code: schemas.CodeNotFound},
		{name: "outline get by key", resource: O, verb: schemas.VerbGet, req: schemas.AdminRequest{Key: "eu-a"}, code: schemas.CodeInvalidArgument, mention: "id"},
		{name: "outline list", resource: O, verb: schemas.VerbList, check: wantList(3, 3)},
		{name: "outline list by region", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"region": "eu-1"}}, check: wantList(2, 2)},
		{name: "outline list by region id", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"region_id": "2"}}, check: wantList(1, 1)},
		{name: "outline list by health", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"health_status": "unhealthy"}}, check: wantList(1, 1)},
		{name: "outline list by region and health", resource: O, verb: schemas.VerbList,
			req: schemas.AdminRequest{Filter: map[string]string{"region": "eu-1", "health_status": "unhealthy"}}, check: wantList(0, 0)},
		{name: "outline list bad health filter", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"health_status": "fine"}},
			code: schemas.CodeInvalidArgument, mention: "health_status"},
		{name: "outline list bad region id filter", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"region_id": "eu"}},
			code: schemas.CodeInvalidArgument, mention: "region_id"},
		{name: "outline list unknown filter", resource: O, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"status": "healthy"}},
			code: schemas.CodeInvalidArgument, mention: "status"},
		{name: "outline set status", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"offline"}`)},
			check: wantData(map[string]any{"id": 1, "health_status": "offline"})},
		{name: "outline set status back", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"healthy"}`)},
			check: wantData(map[string]any{"health_status": "healthy"})},
		{name: "outline set status unknown value", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"online"}`)},
			code: schemas.CodeInvalidArgument, mention: "status"},
		{name: "outline set status unknown node", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 99, Body: raw(`{"status":"offline"}`)},
			code: schemas.CodeNotFound},
		{name: "outline set status without id", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{Body: raw(`{"status":"offline"}`)},
			code: schemas.CodeInvalidArgument, mention: "id"},
		{name: "outline set status unknown field", resource: O, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"offline","why":"x"}`)},
			code: schemas.CodeInvalidArgument, mention: "why"},

		{name: "gateway create", resource: G, verb: schemas.VerbCreate,
			req:   schemas.AdminRequest{Body: raw(`{"name":"gw-eu-1","region":"eu-1","public_ip":"203.0.113.10","internal_ip":"10.1.0.10"}`)},
			check: wantData(map[string]any{"id": 1, "name": "gw-eu-1", "region": "eu-1", "region_id": 1, "status": "offline", "sessions": 0, "last_heartbeat_at": nil})},
		{name: "gateway create without region", resource: G, verb: schemas.VerbCreate,
			req: schemas.AdminRequest{Body: raw(`{"name":"gw-2","status":"draining"}`)}, check: wantData(map[string]any{"region": nil, "status": "draining"})},
		{name: "gateway create duplicate", resource: G, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"name":"gw-eu-1"}`)},
			code: schemas.CodeConflict, mention: "gw-eu-1"},
		{name: "gateway create bad name", resource: G, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"name":"gw.eu"}`)},
			code: schemas.CodeInvalidArgument, mention: "name"},
		{name: "gateway create unknown region", resource: G, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"name":"gw-3","region":"mars"}`)},
			code: schemas.CodeInvalidArgument, mention: "region"},
		{name: "gateway create bad public ip", resource: G, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"name":"gw-3","public_ip":"1.2.3"}`)},
			code: schemas.CodeInvalidArgument, mention: "public_ip"},
		{name: "gateway create bad status", resource: G, verb: schemas.VerbCreate, req: schemas.AdminRequest{Body: raw(`{"name":"gw-3","status":"healthy"}`)},
			code: schemas.CodeInvalidArgument, mention: "status"},
		{name: "gateway get by name", resource: G, verb: schemas.VerbGet, req: schemas.AdminRequest{Key: "gw-2"}, check: wantData(map[string]any{"id": 2})},
		{name: "gateway get by id", resource: G, verb: schemas.VerbGet, req: schemas.AdminRequest{ID: 1}, check: wantData(map[string]any{"name": "gw-eu-1"})},
		{name: "gateway get unknown", resource: G, verb: schemas.VerbGet, req: schemas.AdminRequest{Key: "gw-9"}, code: schemas.CodeNotFound},
		{name: "gateway list", resource: G, verb: schemas.VerbList, check: wantList(2, 2)},
		{name: "gateway list by status", resource: G, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"status": "draining"}}, check: wantList(1, 1)},
		{name: "gateway list by region", resource: G, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"region": "eu-1"}}, check: wantList(1, 1)},
		{name: "gateway list bad status filter", resource: G, verb: schemas.VerbList, req: schemas.AdminRequest{Filter: map[string]string{"status": "healthy"}},
			code: schemas.CodeInvalidArgument, mention: "status"},
		{name: "gateway set status", resource: G, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"draining"}`)},
			check: wantData(map[string]any{"status": "draining"})},
		{name: "gateway set status bad value", resource: G, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1, Body: raw(`{"status":"unhealthy"}`)},
			code: schemas.CodeInvalidArgument, mention: "status"},
		{name: "gateway set status unknown", resource: G, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 42, Body: raw(`{"status":"online"}`)},
			code: schemas.CodeNotFound},
		{name: "gateway set status without body", resource: G, verb: schemas.VerbSetStatus, req: schemas.AdminRequest{ID: 1},
			code: schemas.CodeInvalidArgument, mention: "body"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rep, err := h.admin(t, st.resource, st.verb, st.req)
			if err != nil && strings.Contains(err.Error(), testPassword) || strings.Contains(string(rep.Data), testPassword) {
				t.Fatalf("reply reveals ss_password: %s %v", rep.Data, err)
			}
			if st.code != "" {
				t.Logf("error reply: %v", err)
				if rpcCode(err) != st.code || !strings.Contains(err.Error(), st.mention) {
					t.Fatalf("err = %v, want %s mentioning %q", err, st.code, st.mention)
				}
				return
			}
			if err != nil || !rep.OK {
				t.Fatalf("reply = %+v, err = %v", rep, err)
			}
			if st.check != nil {
				st.check(t, rep)
			}
		})
	}
	t.Run("password is stored for assignment", func(t *testing.T) {
		rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
		if err != nil || !rep.OK || rep.Node.SSPassword != testPassword {
			t.Fatalf("assign = %+v, %v", rep, err)
		}
	})
}
