package edge_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{edge.EnvAdminToken: adminToken, edge.EnvNodeToken: nodeToken}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "<unset>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	t.Run("defaults", func(t *testing.T) {
		env := config.FromMap(base)
		cfg := edge.LoadConfig(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		want := edge.DefaultConfig()
		want.AdminToken, want.NodeToken = adminToken, nodeToken
		if cfg.Addr != "127.0.0.1:8080" || cfg.RequestTimeout != 3*time.Second || cfg.BodyLimit != want.BodyLimit || strings.Join(cfg.Services, ",") != "accounts,node-registry,usage-aggregator" {
			t.Fatalf("cfg %+v", cfg)
		}
	})
	tests := []struct {
		name, key, value, want string
	}{
		{"admin token missing", edge.EnvAdminToken, "<unset>", "HTTVPS_ADMIN_TOKEN: is required"},
		{"node token missing", edge.EnvNodeToken, "<unset>", "HTTVPS_NODE_TOKEN: is required"},
		{"admin token short", edge.EnvAdminToken, "short", "HTTVPS_ADMIN_TOKEN: must be at least 16 characters"},
		{"node token short", edge.EnvNodeToken, "0123456789abcde", "HTTVPS_NODE_TOKEN: must be at least 16 characters"},
		{"tokens equal", edge.EnvNodeToken, adminToken, "HTTVPS_NODE_TOKEN: must differ from HTTVPS_ADMIN_TOKEN"},
		{"bad addr", edge.EnvAddr, "localhost", "HTTVPS_EDGE_ADDR"},
		{"bad timeout", edge.EnvRequestTimeout, "soon", "HTTVPS_EDGE_REQUEST_TIMEOUT"},
		{"tiny timeout", edge.EnvRequestTimeout, "1ms", "HTTVPS_EDGE_REQUEST_TIMEOUT"},
		{"body limit too small", edge.EnvBodyLimit, "10", "HTTVPS_EDGE_BODY_LIMIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.FromMap(with(tt.key, tt.value))
			edge.LoadConfig(env)
			err := env.Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ns := testkit.NATS(t)
	nc := ns.Conn(t)
	tests := []struct {
		name  string
		tweak func(*edge.Config)
		want  string
	}{
		{"short admin token", func(c *edge.Config) { c.AdminToken = "x" }, edge.EnvAdminToken},
		{"same tokens", func(c *edge.Config) { c.NodeToken = c.AdminToken }, edge.EnvNodeToken},
		{"no services", func(c *edge.Config) { c.Services = nil }, edge.EnvHealthServices},
		{"port taken", func(c *edge.Config) { c.Addr = takenAddr(t) }, "listen on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.tweak(&cfg)
			_, err := edge.New(cfg, edge.Deps{NC: nc, Log: testkit.Logger(t), Registerer: prometheus.NewRegistry()})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func takenAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func TestRunStopsOnCancel(t *testing.T) {
	ns := testkit.NATS(t)
	svc, err := edge.New(testConfig(), edge.Deps{NC: ns.Conn(t), Log: testkit.Logger(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	url := "http://" + svc.Addr() + "/api/v1/openapi.json"
	testkit.Eventually(t, 5*time.Second, "edge answers", func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	client.CloseIdleConnections()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if conn, err := net.DialTimeout("tcp", svc.Addr(), time.Second); err == nil {
		conn.Close()
		t.Fatal("still listening after Run returned")
	}
}

func TestMetricsUseRoutePatterns(t *testing.T) {
	h := startEdge(t)
	h.get("/api/v1/admin/users/12345", adminToken)
	h.get("/api/v1/admin/users/alice@example.com", adminToken)
	h.get("/api/v1/admin/users/12345", "")
	h.get("/api/v1/no/such/path/987", adminToken)
	h.post("/api/v1/usage/report", nodeToken, `{}`)

	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := labelMap(m)
			for _, v := range labels {
				if strings.Contains(v, "12345") || strings.Contains(v, "alice") || strings.Contains(v, "987") {
					t.Errorf("%s has a raw path label %v", f.GetName(), labels)
				}
			}
			if f.GetName() == "httvps_edge_requests_total" {
				counts[labels["method"]+" "+labels["route"]+" "+labels["status"]] += m.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"GET /api/v1/admin/users/:id 503": 2,
		"GET /api/v1/admin/users/:id 401": 1,
		"GET unmatched 404":               1,
		"POST /api/v1/usage/report 400":   1,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
