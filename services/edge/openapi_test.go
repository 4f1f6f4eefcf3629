package edge_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/openapi"
)

type openapiDoc struct {
	Paths map[string]map[string]struct {
		Security  []map[string][]string `json:"security"`
		Responses map[string]any        `json:"responses"`
	} `json:"paths"`
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func TestOpenAPIDescribesExactlyTheRegisteredRoutes(t *testing.T) {
	h := startEdge(t)
	var doc openapiDoc
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]string{}
	for p, ops := range doc.Paths {
		for method, o := range ops {
			key := strings.ToUpper(method) + " " + pathParam.ReplaceAllString(p, ":$1")
			access := "open"
			for _, req := range o.Security {
				for scheme := range req {
					access = strings.TrimSuffix(scheme, "Token")
				}
			}
			documented[key] = access
			if _, ok := o.Responses["401"]; ok != (access != "open") {
				t.Errorf("%s: 401 documented %v with access %s", key, ok, access)
			}
		}
	}
	registered := map[string]string{}
	for _, r := range h.svc.Routes() {
		registered[r.Method+" "+r.Path] = r.Access
	}
	for _, key := range sortedKeys(registered) {
		access, ok := documented[key]
		switch {
		case !ok:
			t.Errorf("route %s is not in openapi.json", key)
		case access != registered[key]:
			t.Errorf("route %s: openapi says %s access, edge %s", key, access, registered[key])
		}
	}
	for _, key := range sortedKeys(documented) {
		if _, ok := registered[key]; !ok {
			t.Errorf("openapi.json documents %s, which the edge does not serve", key)
		}
	}
	var fiberRoutes []string
	for _, r := range h.svc.FiberRoutes() {
		if _, ok := registered[r]; !ok {
			fiberRoutes = append(fiberRoutes, r)
		}
	}
	if len(fiberRoutes) > 0 {
		t.Errorf("fiber serves routes outside the table: %v", fiberRoutes)
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	h := startEdge(t)
	r := h.get("/api/v1/openapi.json", "")
	wantStatus(t, r, http.StatusOK)
	if string(r.raw) != string(openapi.Document) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("served %d bytes as %s", len(r.raw), r.header.Get("Content-Type"))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAdminRoutesAreTheSchemasTable(t *testing.T) {
	h := startEdge(t)
	var admin []string
	for _, r := range h.svc.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/admin/") {
			admin = append(admin, r.Method+" "+r.Path)
			if want := map[string]string{http.MethodGet: "adminRead", http.MethodPost: "admin", http.MethodPatch: "admin"}[r.Method]; r.Access != want {
				t.Errorf("%s %s: access %s, want %s", r.Method, r.Path, r.Access, want)
			}
		}
	}
	if len(admin) != len(schemas.AdminCommands()) {
		t.Fatalf("edge serves %d admin routes, schemas has %d commands: %v", len(admin), len(schemas.AdminCommands()), admin)
	}
}
