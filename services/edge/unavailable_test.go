package edge_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go"
)

// validInput is a request each RPC route accepts up to the NATS call.
func validInput(r routeInfo) (path, body string) {
	path = concretePath(r.Path)
	switch {
	case r.Path == "/api/v1/auth/validate-device":
		body = `{"device_id":"d1","access_token":"tok","region":"eu-1"}`
	case r.Path == "/api/v1/nodes/assign-outline":
		body = `{"region":"eu-1","user_id":1,"device_id":"d1"}`
	case strings.HasSuffix(r.Path, "/status"):
		body = `{"status":"active"}`
	case r.Method == http.MethodPost, r.Method == http.MethodPatch:
		body = `{"name":"x"}`
	}
	return path, body
}

func rpcRoutes(h *harness) []routeInfo {
	var out []routeInfo
	for _, r := range h.svc.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/admin/") || r.Path == "/api/v1/auth/validate-device" || r.Path == "/api/v1/nodes/assign-outline" {
			out = append(out, r)
		}
	}
	return out
}

func TestNoResponderIs503(t *testing.T) {
	h := startEdge(t)
	for _, r := range rpcRoutes(h) {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			path, body := validInput(r)
			token := adminToken
			if r.Access == "node" {
				token = nodeToken
			}
			got := h.do(r.Method, path, token, body)
			wantError(t, got, http.StatusServiceUnavailable, "BACKEND_UNAVAILABLE", "did not answer")
		})
	}
}

func TestSilentResponderIs503WithinTimeout(t *testing.T) {
	h := startEdge(t)
	for _, subject := range []string{schemas.SubjectValidateDevice, schemas.SubjectAssignOutline, schemas.AdminSubject(schemas.ResourceUsers, schemas.VerbList)} {
		sub, err := h.nc.Subscribe(subject, func(*nats.Msg) {})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := h.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, token, body string }{
		{"validate-device", "/api/v1/auth/validate-device", nodeToken, `{"device_id":"d1","access_token":"tok","region":"eu-1"}`},
		{"assign-outline", "/api/v1/nodes/assign-outline", nodeToken, `{"region":"eu-1","user_id":1,"device_id":"d1"}`},
		{"admin list", "/api/v1/admin/users", adminToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == "" {
				method = http.MethodGet
			}
			start := time.Now()
			got := h.do(method, tt.path, tt.token, tt.body)
			wantError(t, got, http.StatusServiceUnavailable, "BACKEND_UNAVAILABLE", "did not answer")
			if waited := time.Since(start); waited < h.cfg.RequestTimeout {
				t.Fatalf("answered after %s, before the %s request timeout", waited, h.cfg.RequestTimeout)
			}
		})
	}
}

func TestJetStreamWithoutStreamIs503(t *testing.T) {
	h := startEdge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, stream := range []string{schemas.StreamUsage, schemas.StreamHeartbeats} {
		if err := h.js.DeleteStream(ctx, stream); err != nil {
			t.Fatalf("delete %s: %v", stream, err)
		}
	}
	tests := []struct{ name, path, body string }{
		{"usage report", "/api/v1/usage/report", usageBody(`"region":"eu-1"`)},
		{"gateway heartbeat", "/api/v1/gateway/heartbeat", gatewayBody(`"version":"1.0.0"`)},
		{"outline heartbeat", "/api/v1/outline/heartbeat", `{"node_id":3,"health_status":"healthy"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.post(tt.path, nodeToken, tt.body), http.StatusServiceUnavailable, "BACKEND_UNAVAILABLE", "JetStream stream")
		})
	}
}

func TestNATSDownIs503(t *testing.T) {
	h := startEdge(t)
	h.nats.Shutdown()
	tests := []struct{ name, method, path, token, body string }{
		{"usage report", http.MethodPost, "/api/v1/usage/report", nodeToken, usageBody(`"region":"eu-1"`)},
		{"validate-device", http.MethodPost, "/api/v1/auth/validate-device", nodeToken, `{"device_id":"d1","access_token":"tok","region":"eu-1"}`},
		{"admin get", http.MethodGet, "/api/v1/admin/regions/eu-1", adminToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do(tt.method, tt.path, tt.token, tt.body), http.StatusServiceUnavailable, "BACKEND_UNAVAILABLE", "")
		})
	}
	t.Run("health", func(t *testing.T) {
		r := h.get("/api/v1/health", "")
		wantStatus(t, r, http.StatusServiceUnavailable)
		if m := r.object(t); m["nats"] != false || m["ok"] != false {
			t.Fatalf("health %s", r.raw)
		}
	})
}
