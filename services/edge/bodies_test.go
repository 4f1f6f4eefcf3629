package edge_test

import (
	"net/http"
	"strings"
	"testing"
)

type badBody struct {
	name, body, message string
}

// badBodies lists, per node endpoint, what each bad body gets: 400 naming the field.
var badBodies = map[string][]badBody{
	"/api/v1/auth/validate-device": {
		{"empty body", ``, "body: required"},
		{"malformed", `{"device_id":`, "body: malformed JSON"},
		{"not an object", `[1,2]`, "body: must be a JSON object"},
		{"trailing data", `{"device_id":"d1","access_token":"t","region":"eu-1"} {}`, "body: trailing data"},
		{"unknown field", `{"device_id":"d1","access_token":"t","region":"eu-1","user_id":1}`, "field user_id: unknown field"},
		{"missing device_id", `{"access_token":"t","region":"eu-1"}`, "field device_id: required"},
		{"missing access_token", `{"device_id":"d1","region":"eu-1"}`, "field access_token: required"},
		{"missing region", `{"device_id":"d1","access_token":"t"}`, "field region: required"},
		{"device_id with dot", `{"device_id":"d.1","access_token":"t","region":"eu-1"}`, "field device_id: must be 1 to 64 letters"},
		{"region wildcard", `{"device_id":"d1","access_token":"t","region":"eu-*"}`, "field region: must not contain"},
		{"device_id number", `{"device_id":7,"access_token":"t","region":"eu-1"}`, "field device_id: must be a string, not number"},
	},
	"/api/v1/nodes/assign-outline": {
		{"empty body", ``, "body: required"},
		{"malformed", `{"region":"eu-1",}`, "body: malformed JSON"},
		{"unknown field", `{"region":"eu-1","user_id":1,"device_id":"d1","node":3}`, "field node: unknown field"},
		{"missing region", `{"user_id":1,"device_id":"d1"}`, "field region: required"},
		{"missing user_id", `{"region":"eu-1","device_id":"d1"}`, "field user_id: required"},
		{"negative user_id", `{"region":"eu-1","user_id":-4,"device_id":"d1"}`, "field user_id: must be a positive integer"},
		{"user_id string", `{"region":"eu-1","user_id":"1","device_id":"d1"}`, "field user_id: must be an integer, not string"},
		{"missing device_id", `{"region":"eu-1","user_id":1}`, "field device_id: required"},
		{"duplicate excludes", `{"region":"eu-1","user_id":1,"device_id":"d1","exclude_node_ids":[2,2]}`, "field exclude_node_ids: must hold distinct"},
	},
	"/api/v1/usage/report": {
		{"empty body", ` `, "body: required"},
		{"malformed", `gateway_id=gw-1`, "body: malformed JSON"},
		{"unknown field", usageBody(`"delta_up":5`), "field delta_up: unknown field"},
		{"missing gateway_id", `{"device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field gateway_id: required"},
		{"missing device_id", `{"gateway_id":"gw-1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field device_id: required"},
		{"missing session_id", `{"gateway_id":"gw-1","device_id":"d1","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field session_id: required"},
		{"missing bytes_up", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field bytes_up: required"},
		{"missing bytes_down", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"started_at":"2025-11-21T18:00:00Z"}`, "field bytes_down: required"},
		{"missing started_at", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2}`, "field started_at: required"},
		{"negative bytes_down", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":-2,"started_at":"2025-11-21T18:00:00Z"}`, "field bytes_down: must not be negative"},
		{"fractional bytes_up", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1.5,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field bytes_up: must be an integer"},
		{"bad started_at", `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"yesterday"}`, "field started_at: must be an RFC 3339 date-time"},
		{"ended before started", usageBody(`"ended_at":"2025-11-21T17:00:00Z"`), "field ended_at: must not be before started_at"},
		{"gateway_id with dot", `{"gateway_id":"gw.1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field gateway_id: must not contain"},
		{"region with space", usageBody(`"region":"eu 1"`), "field region: must not contain"},
		{"session_id not a uuid", `{"gateway_id":"gw-1","device_id":"d1","session_id":"s-1","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field session_id: must be a UUID"},
		{"device_id too long", `{"gateway_id":"gw-1","device_id":"` + strings.Repeat("d", 65) + `","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`, "field device_id: must be 1 to 64"},
	},
	"/api/v1/gateway/heartbeat": {
		{"empty body", ``, "body: required"},
		{"malformed", `{`, "body: malformed JSON"},
		{"unknown field", gatewayBody(`"cpu":0.5`), "field cpu: unknown field"},
		{"missing gateway_id", `{"region":"eu-1","status":"online","sessions":1,"streams":2,"interval_seconds":10}`, "field gateway_id: required"},
		{"missing region", `{"gateway_id":"gw-1","status":"online","sessions":1,"streams":2,"interval_seconds":10}`, "field region: required"},
		{"missing status", `{"gateway_id":"gw-1","region":"eu-1","sessions":1,"streams":2,"interval_seconds":10}`, "field status: required"},
		{"bad status", gatewayBody(`"status":"up"`), "field status: must be one of online, draining, offline"},
		{"missing sessions", `{"gateway_id":"gw-1","region":"eu-1","status":"online","streams":2,"interval_seconds":10}`, "field sessions: required"},
		{"negative streams", `{"gateway_id":"gw-1","region":"eu-1","status":"online","sessions":1,"streams":-2,"interval_seconds":10}`, "field streams: must not be negative"},
		{"missing interval", `{"gateway_id":"gw-1","region":"eu-1","status":"online","sessions":1,"streams":2}`, "field interval_seconds: required"},
		{"bad public_ip", gatewayBody(`"public_ip":"203.0.113"`), "field public_ip: must be an IPv4 or IPv6 address"},
		{"negative rate", gatewayBody(`"bytes_up_per_sec":-1`), "field bytes_up_per_sec: must not be negative"},
		{"bad sent_at", gatewayBody(`"sent_at":"now"`), "field sent_at: must be an RFC 3339 date-time"},
	},
	"/api/v1/outline/heartbeat": {
		{"empty body", ``, "body: required"},
		{"malformed", `{"node_id":1`, "body: malformed JSON"},
		{"unknown field", `{"node_id":1,"health_status":"healthy","region":"eu-1"}`, "field region: unknown field"},
		{"missing node_id", `{"health_status":"healthy"}`, "field node_id: required"},
		{"node_id zero", `{"node_id":0,"health_status":"healthy"}`, "field node_id: required"},
		{"missing health_status", `{"node_id":1}`, "field health_status: required"},
		{"bad health_status", `{"node_id":1,"health_status":"ok"}`, "field health_status: must be one of healthy, unhealthy, offline"},
		{"negative connections", `{"node_id":1,"health_status":"healthy","active_connections":-1}`, "field active_connections: must not be negative"},
	},
}

func usageBody(extra string) string {
	return `{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z",` + extra + `}`
}

func gatewayBody(extra string) string {
	return `{"gateway_id":"gw-1","region":"eu-1","status":"online","sessions":1,"streams":2,"interval_seconds":10,` + extra + `}`
}

func TestNodeEndpointsRefuseBadBodies(t *testing.T) {
	h := startEdge(t)
	for path, cases := range badBodies {
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				r := h.do(http.MethodPost, path, nodeToken, tc.body)
				wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT", tc.message)
			})
		}
	}
}

func TestAdminRefusesBadInput(t *testing.T) {
	h := startEdge(t)
	tests := []struct {
		name, method, path, body, message string
	}{
		{"limit zero", http.MethodGet, "/api/v1/admin/users?limit=0", "", "query limit: must be a whole number from 1 to 500"},
		{"limit too big", http.MethodGet, "/api/v1/admin/users?limit=501", "", "query limit"},
		{"limit not a number", http.MethodGet, "/api/v1/admin/devices?limit=ten", "", "query limit"},
		{"negative offset", http.MethodGet, "/api/v1/admin/plans?offset=-1", "", "query offset"},
		{"filter twice", http.MethodGet, "/api/v1/admin/devices?user_id=1&user_id=2", "", "query user_id: given twice"},
		{"get id zero", http.MethodGet, "/api/v1/admin/users/0", "", "path id: must be a positive integer or a key"},
		{"create without body", http.MethodPost, "/api/v1/admin/users", "", "body: required, a JSON object"},
		{"create malformed", http.MethodPost, "/api/v1/admin/regions", `{"code":`, "body: malformed JSON"},
		{"create array", http.MethodPost, "/api/v1/admin/plans", `[{"name":"x"}]`, "body: must be a JSON object"},
		{"create null", http.MethodPost, "/api/v1/admin/plans", `null`, "body: must be a JSON object, not null"},
		{"create trailing", http.MethodPost, "/api/v1/admin/plans", `{"name":"x"}{}`, "body: trailing data"},
		{"status id zero", http.MethodPost, "/api/v1/admin/users/0/status", `{"status":"banned"}`, "path id: must be a positive integer or a key"},
		{"status without body", http.MethodPost, "/api/v1/admin/users/1/status", "", "body: required"},
		{"status missing", http.MethodPost, "/api/v1/admin/users/1/status", `{}`, "field status: required"},
		{"status not a string", http.MethodPost, "/api/v1/admin/outline-nodes/1/status", `{"status":1}`, "field status: must be a string"},
		{"verb negative id", http.MethodPost, "/api/v1/admin/devices/-3/revoke", "", "path id: must be a positive integer or a key"},
		{"verb body not object", http.MethodPost, "/api/v1/admin/subscriptions/1/extend", `"30d"`, "body: must be a JSON object"},
		{"usage non-numeric user", http.MethodGet, "/api/v1/admin/users/alice/usage", "", "path id: must be a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, adminToken, tt.body)
			wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT", tt.message)
		})
	}
}

func TestFrameworkErrorsUseTheEnvelope(t *testing.T) {
	h := startEdge(t, func(c *edgeConfig) { c.BodyLimit = 2048 })
	t.Run("unknown route", func(t *testing.T) {
		wantError(t, h.get("/api/v1/nope", adminToken), http.StatusNotFound, "NOT_FOUND", "")
	})
	t.Run("wrong method", func(t *testing.T) {
		r := h.do(http.MethodDelete, "/api/v1/admin/users/1", adminToken, "")
		if r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
			t.Fatalf("status %d\n%s", r.status, r.raw)
		}
		r.errorCode(t)
	})
	t.Run("body too large", func(t *testing.T) {
		big := `{"device_id":"` + string(make([]byte, 4096)) + `"}`
		r := h.do(http.MethodPost, "/api/v1/auth/validate-device", nodeToken, big)
		wantError(t, r, http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT", "body: larger than 2048 bytes")
	})
}
