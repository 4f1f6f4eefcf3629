package edge_test

import (
	"net/http"
	"strings"
	"testing"
)

func concretePath(pattern string) string {
	return strings.ReplaceAll(pattern, ":id", "1")
}

func TestEveryProtectedRouteRefusesBadCredentials(t *testing.T) {
	h := startEdge(t)
	for _, r := range h.svc.Routes() {
		if r.Access == "open" {
			continue
		}
		path := concretePath(r.Path)
		cases := []struct {
			name   string
			header string
		}{
			{"missing", ""},
			{"wrong token", "Bearer wrong-token-0123456789abcdef"},
			{"empty bearer", "Bearer "},
			{"basic scheme", "Basic " + adminToken},
			{"token without scheme", adminToken},
			{"token prefix", "Bearer " + adminToken[:len(adminToken)-1]},
		}
		type badCase = struct {
			name   string
			header string
		}
		if r.Access == "admin" || r.Access == "adminRead" {
			cases = append(cases, badCase{"node token on admin", "Bearer " + nodeToken})
		}
		if r.Access == "admin" || r.Access == "node" {
			cases = append(cases, badCase{"read-only admin token", "Bearer " + adminReadToken})
		}
		for _, tc := range cases {
			t.Run(r.Method+" "+r.Path+"/"+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(r.Method, h.url+path, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				got := readResponse(t, resp)
				wantError(t, got, http.StatusUnauthorized, "UNAUTHORIZED", "")
			})
		}
	}
}

func TestTokensAcceptedWhereAllowed(t *testing.T) {
	h := startEdge(t)
	tests := []struct {
		name, method, path, token string
	}{
		{"health needs nothing", http.MethodGet, "/api/v1/health", ""},
		{"openapi needs nothing", http.MethodGet, "/api/v1/openapi.json", ""},
		{"node token on node endpoint", http.MethodPost, "/api/v1/auth/validate-device", nodeToken},
		{"admin token on node endpoint", http.MethodPost, "/api/v1/usage/report", adminToken},
		{"admin token on admin endpoint", http.MethodGet, "/api/v1/admin/users", adminToken},
		{"admin token on a writing admin endpoint", http.MethodPost, "/api/v1/admin/users", adminToken},
		{"read-only admin token on a reading admin endpoint", http.MethodGet, "/api/v1/admin/users/1", adminReadToken},
		{"read-only admin token on usage", http.MethodGet, "/api/v1/admin/users/1/usage", adminReadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.token, "")
			if r.status == http.StatusUnauthorized {
				t.Fatalf("refused: %s", r.raw)
			}
		})
	}
}
