package edge_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/micro"
)

// fakeOwner answers the edge's NATS requests the way the owning services do.
func fakeOwner(tb testing.TB, h *harness, name string, endpoints map[string]micro.Handler) {
	tb.Helper()
	svc, err := micro.AddService(h.nc, micro.Config{Name: name, Version: "0.0.1"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = svc.Stop() })
	i := 0
	for subject, handler := range endpoints {
		i++
		if err := svc.AddEndpoint("e"+string(rune('a'+i)), handler, micro.WithEndpointSubject(subject)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := h.nc.Flush(); err != nil {
		tb.Fatal(err)
	}
}

func srv(tb testing.TB) rpc.Server {
	return rpc.Server{Ctx: context.Background(), Log: testkit.Logger(tb)}
}

func TestNodeRPCTranslation(t *testing.T) {
	h := startEdge(t)
	limit := int64(10 << 30)
	okReply := schemas.ValidateDeviceReply{
		OK: true, UserID: 1017,
		Device:       &schemas.DeviceInfo{ID: 5521, DeviceID: "dev-ok", Platform: "android", Status: "active"},
		Subscription: &schemas.SubscriptionInfo{ID: 880, PlanID: 2, PlanName: "basic", ValidUntil: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Status: "active"},
		Limits:       &schemas.AccountLimits{MaxDevices: 3, ActiveDevices: 1, TrafficLimitBytes: &limit, UsedBytes: 5, RemainingBytes: &limit},
	}
	var seen schemas.ValidateDeviceRequest
	fakeOwner(t, h, "accounts", map[string]micro.Handler{
		schemas.SubjectValidateDevice: rpc.Handle(srv(t), "validate-device", func(_ context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, error) {
			seen = req
			switch req.DeviceID {
			case "dev-ok":
				return okReply, nil
			case "dev-refused":
				return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: schemas.CodeSubscriptionExpired, Message: "subscription 880 expired"}}, nil
			case "dev-limit":
				return schemas.ValidateDeviceReply{Error: &schemas.RPCError{Code: schemas.CodeLimitReached, Message: "traffic limit", Limit: schemas.LimitTraffic}}, nil
			case "dev-silent-refusal":
				return schemas.ValidateDeviceReply{}, nil
			default:
				return schemas.ValidateDeviceReply{}, rpc.Errorf(schemas.CodeDeviceNotFound, "device %s not found", req.DeviceID)
			}
		}),
	})
	fakeOwner(t, h, "node-registry", map[string]micro.Handler{
		schemas.SubjectAssignOutline: rpc.Handle(srv(t), "assign-outline", func(_ context.Context, req schemas.AssignOutlineRequest) (schemas.AssignOutlineReply, error) {
			if req.Region != "eu-1" {
				return schemas.AssignOutlineReply{}, rpc.Errorf(schemas.CodeRegionUnknown, "region %s", req.Region)
			}
			if req.UserID == 2 {
				return schemas.AssignOutlineReply{Error: &schemas.RPCError{Code: schemas.CodeNoCapacity, Message: "no healthy node"}}, nil
			}
			return schemas.AssignOutlineReply{OK: true, Node: &schemas.OutlineAssignment{NodeID: 3, Region: "eu-1", InternalIP: "10.0.0.7", SSPort: 8388, SSMethod: "chacha20-ietf-poly1305", SSPassword: "pw"}}, nil
		}),
	})

	t.Run("validate ok passes the reply through", func(t *testing.T) {
		r := h.post("/api/v1/auth/validate-device", nodeToken, `{"device_id":"dev-ok","access_token":"tok","region":"eu-1","client_version":"1.0","platform":"android"}`)
		wantStatus(t, r, http.StatusOK)
		var got schemas.ValidateDeviceReply
		strictDecode(t, r.raw, &got)
		if !reflect.DeepEqual(got, okReply) {
			t.Fatalf("reply %s", r.raw)
		}
		if want := (schemas.ValidateDeviceRequest{DeviceID: "dev-ok", AccessToken: "tok", Region: "eu-1", ClientVersion: "1.0", Platform: "android"}); seen != want {
			t.Fatalf("owner saw %+v", seen)
		}
	})
	refusals := []struct {
		name, device, code string
		status             int
		limit              string
	}{
		{"refused in the reply", "dev-refused", "SUBSCRIPTION_EXPIRED", http.StatusForbidden, ""},
		{"limit names which", "dev-limit", "LIMIT_REACHED", http.StatusForbidden, "traffic"},
		{"refused as an rpc error", "dev-missing", "DEVICE_NOT_FOUND", http.StatusForbidden, ""},
		{"ok false without code", "dev-silent-refusal", "INTERNAL", http.StatusInternalServerError, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			r := h.post("/api/v1/auth/validate-device", nodeToken, map[string]string{"device_id": tt.device, "access_token": "tok", "region": "eu-1"})
			wantError(t, r, tt.status, tt.code, "")
			m := r.object(t)
			if m["ok"] != false || m["code"] != tt.code {
				t.Fatalf("body %s", r.raw)
			}
			if tt.limit != "" && m["error"].(map[string]any)["limit"] != tt.limit {
				t.Fatalf("limit missing: %s", r.raw)
			}
		})
	}
	t.Run("assign ok", func(t *testing.T) {
		r := h.post("/api/v1/nodes/assign-outline", nodeToken, `{"region":"eu-1","user_id":1,"device_id":"d1","exclude_node_ids":[4]}`)
		wantStatus(t, r, http.StatusOK)
		var got schemas.AssignOutlineReply
		strictDecode(t, r.raw, &got)
		if !got.OK || got.Node == nil || got.Node.SSPassword != "pw" || got.Node.SSPort != 8388 {
			t.Fatalf("reply %s", r.raw)
		}
	})
	t.Run("assign unknown region", func(t *testing.T) {
		wantError(t, h.post("/api/v1/nodes/assign-outline", nodeToken, `{"region":"xx-9","user_id":1,"device_id":"d1"}`), http.StatusNotFound, "REGION_UNKNOWN", "region xx-9")
	})
	t.Run("assign no capacity", func(t *testing.T) {
		wantError(t, h.post("/api/v1/nodes/assign-outline", nodeToken, `{"region":"eu-1","user_id":2,"device_id":"d1"}`), http.StatusServiceUnavailable, "NO_CAPACITY", "no healthy node")
	})
}

func TestAdminTranslation(t *testing.T) {
	h := startEdge(t)
	h.skipConformance = true
	echo := func(verb string) micro.Handler {
		return rpc.HandleAdmin(srv(t), verb, func(_ context.Context, req schemas.AdminRequest) (any, int64, error) {
			switch req.Key {
			case "missing":
				return nil, 0, rpc.Errorf(schemas.CodeNotFound, "user missing not found")
			case "taken":
				return nil, 0, rpc.Errorf(schemas.CodeConflict, "user identifier already exists")
			}
			if verb == schemas.VerbList {
				return []schemas.AdminRequest{req}, 321, nil
			}
			return req, 0, nil
		})
	}
	endpoints := map[string]micro.Handler{}
	for _, verb := range []string{schemas.VerbList, schemas.VerbGet, schemas.VerbCreate, schemas.VerbSetStatus} {
		endpoints[schemas.AdminSubject(schemas.ResourceUsers, verb)] = echo(verb)
	}
	endpoints[schemas.AdminSubject(schemas.ResourceDevices, schemas.VerbRotate)] = echo(schemas.VerbRotate)
	endpoints[schemas.AdminSubject(schemas.ResourceSubscriptions, schemas.VerbExtend)] = echo(schemas.VerbExtend)
	endpoints[schemas.AdminSubject(schemas.ResourceUsage, schemas.VerbGet)] = echo(schemas.VerbGet)
	fakeOwner(t, h, "accounts", endpoints)

	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"list defaults", http.MethodGet, "/api/v1/admin/users", "", http.StatusOK,
			`{"items":[{"limit":50}],"total":321,"limit":50,"offset":0}`},
		{"list paging and filters", http.MethodGet, "/api/v1/admin/users?limit=5&offset=10&status=banned&identifier_kind=email", "", http.StatusOK,
			`{"items":[{"limit":5,"offset":10,"filter":{"identifier_kind":"email","status":"banned"}}],"total":321,"limit":5,"offset":10}`},
		{"get by id", http.MethodGet, "/api/v1/admin/users/17", "", http.StatusOK, `{"id":17}`},
		{"get by key", http.MethodGet, "/api/v1/admin/users/alice@example.com", "", http.StatusOK, `{"key":"alice@example.com"}`},
		{"get by escaped key", http.MethodGet, "/api/v1/admin/users/alice%40example.com", "", http.StatusOK, `{"key":"alice@example.com"}`},
		{"create", http.MethodPost, "/api/v1/admin/users", `{"identifier":"alice@example.com","identifier_kind":"email"}`, http.StatusCreated,
			`{"body":{"identifier":"alice@example.com","identifier_kind":"email"}}`},
		{"set status", http.MethodPost, "/api/v1/admin/users/17/status", `{"status":"banned"}`, http.StatusOK, `{"id":17,"body":{"status":"banned"}}`},
		{"verb without body", http.MethodPost, "/api/v1/admin/devices/9/rotate", "", http.StatusOK, `{"id":9}`},
		{"verb by key", http.MethodPost, "/api/v1/admin/devices/dev-7/rotate", "", http.StatusOK, `{"key":"dev-7"}`},
		{"verb with body", http.MethodPost, "/api/v1/admin/subscriptions/4/extend", `{"days":30}`, http.StatusOK, `{"id":4,"body":{"days":30}}`},
		{"user usage", http.MethodGet, "/api/v1/admin/users/17/usage", "", http.StatusOK, `{"id":17}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, adminToken, tt.body)
			wantStatus(t, r, tt.status)
			if got := compactJSON(t, string(r.raw)); got != compactJSON(t, tt.want) {
				t.Fatalf("body %s\nwant %s", got, tt.want)
			}
		})
	}
	t.Run("owner NOT_FOUND", func(t *testing.T) {
		wantError(t, h.get("/api/v1/admin/users/missing", adminToken), http.StatusNotFound, "NOT_FOUND", "user missing not found")
	})
	t.Run("owner CONFLICT", func(t *testing.T) {
		wantError(t, h.get("/api/v1/admin/users/taken", adminToken), http.StatusConflict, "CONFLICT", "already exists")
	})
	t.Run("empty list is an empty array", func(t *testing.T) {
		fakeOwner(t, h, "node-registry", map[string]micro.Handler{
			schemas.AdminSubject(schemas.ResourceRegions, schemas.VerbList): rpc.HandleAdmin(srv(t), "list", func(context.Context, schemas.AdminRequest) (any, int64, error) {
				return nil, 0, nil
			}),
		})
		r := h.get("/api/v1/admin/regions?offset=3", adminToken)
		wantStatus(t, r, http.StatusOK)
		if got := compactJSON(t, string(r.raw)); got != `{"items":[],"total":0,"limit":50,"offset":3}` {
			t.Fatalf("body %s", got)
		}
	})
}

func TestHealthPingsEachService(t *testing.T) {
	h := startEdge(t)
	health := func() (int, map[string]bool) {
		r := h.get("/api/v1/health", "")
		var body struct {
			OK        bool `json:"ok"`
			NATS      bool `json:"nats"`
			JetStream bool `json:"jetstream"`
			Services  []struct {
				Name  string `json:"name"`
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			} `json:"services"`
		}
		strictDecode(t, r.raw, &body)
		if !body.NATS || !body.JetStream {
			t.Fatalf("health %s", r.raw)
		}
		up := map[string]bool{}
		for _, s := range body.Services {
			up[s.Name] = s.OK
			if !s.OK && s.Error == "" {
				t.Fatalf("no error for %s: %s", s.Name, r.raw)
			}
		}
		if body.OK != (r.status == http.StatusOK) {
			t.Fatalf("ok %v with status %d", body.OK, r.status)
		}
		return r.status, up
	}
	status, up := health()
	if status != http.StatusServiceUnavailable || !reflect.DeepEqual(up, map[string]bool{"accounts": false, "node-registry": false, "usage-aggregator": false}) {
		t.Fatalf("no services: %d %v", status, up)
	}
	fakeOwner(t, h, "accounts", nil)
	fakeOwner(t, h, "node-registry", nil)
	status, up = health()
	if status != http.StatusServiceUnavailable || !reflect.DeepEqual(up, map[string]bool{"accounts": true, "node-registry": true, "usage-aggregator": false}) {
		t.Fatalf("two services: %d %v", status, up)
	}
	fakeOwner(t, h, "usage-aggregator", nil)
	status, up = health()
	if status != http.StatusOK || !reflect.DeepEqual(up, map[string]bool{"accounts": true, "node-registry": true, "usage-aggregator": true}) {
		t.Fatalf("all services: %d %v", status, up)
	}
}
