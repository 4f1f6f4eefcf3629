package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	adminToken     = "admin-token-0123456789abcdef"
	nodeToken      = "node-token-0123456789abcdef"
	adminReadToken = "admin-read-token-0123456789abcdef"
)

type harness struct {
	t    testing.TB
	url  string
	nats *testkit.NATSServer
	nc   *nats.Conn
	js   jetstream.JetStream
	svc  *edge.Service
	reg  *prometheus.Registry
	cfg  edge.Config

	// skipConformance is for fake owners whose data is not real objects.
	skipConformance bool
}

func testConfig() edge.Config {
	cfg := edge.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.NodeToken = nodeToken
	cfg.AdminReadToken = adminReadToken
	cfg.RequestTimeout = 400 * time.Millisecond
	cfg.HealthTimeout = 200 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	return cfg
}

// startEdge runs the edge against a fresh embedded JetStream.
func startEdge(tb testing.TB, tweak ...func(*edge.Config)) *harness {
	tb.Helper()
	ns := testkit.NATS(tb)
	return startEdgeOn(tb, ns, tweak...)
}

func startEdgeOn(tb testing.TB, ns *testkit.NATSServer, tweak ...func(*edge.Config)) *harness {
	tb.Helper()
	h := startEdgeWith(tb, ns.Conn(tb), ns.JetStream(tb), tweak...)
	h.nats = ns
	return h
}

// startEdgeWith runs the edge on nc; js is what the test reads the streams with.
func startEdgeWith(tb testing.TB, nc *nats.Conn, js jetstream.JetStream, tweak ...func(*edge.Config)) *harness {
	tb.Helper()
	cfg := testConfig()
	for _, f := range tweak {
		f(&cfg)
	}
	h := &harness{t: tb, nc: nc, js: js, reg: prometheus.NewRegistry(), cfg: cfg}
	svc, err := edge.New(cfg, edge.Deps{NC: h.nc, Log: testkit.Logger(tb), Registerer: h.reg})
	if err != nil {
		tb.Fatalf("edge.New: %v", err)
	}
	h.svc = svc
	h.url = "http://" + svc.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("edge Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Errorf("edge Run did not return after cancel")
		}
	})
	return h
}

type response struct {
	status int
	header http.Header
	raw    []byte
}

func (r response) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		tb.Fatalf("response is not a JSON object: %v\n%s", err, r.raw)
	}
	return m
}

func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.raw, v); err != nil {
		tb.Fatalf("decode %T: %v\n%s", v, err, r.raw)
	}
}

// errorCode checks the error envelope and returns its code and message.
func (r response) errorCode(tb testing.TB) (string, string) {
	tb.Helper()
	var body edge.ErrorBody
	r.decode(tb, &body)
	if body.OK || body.Error == nil || body.Code != body.Error.Code {
		tb.Fatalf("not an error envelope: %s", r.raw)
	}
	return string(body.Code), body.Error.Message
}

var client = &http.Client{Timeout: 10 * time.Second}

func (h *harness) do(method, path, token, body string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if !h.skipConformance {
		conform(h.t, method, path, out)
	}
	return out
}

func (h *harness) post(path, token string, body any) response {
	h.t.Helper()
	s, ok := body.(string)
	if !ok {
		data, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		s = string(data)
	}
	return h.do(http.MethodPost, path, token, s)
}

func (h *harness) get(path, token string) response {
	h.t.Helper()
	return h.do(http.MethodGet, path, token, "")
}

func wantStatus(tb testing.TB, r response, status int) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
}

func wantError(tb testing.TB, r response, status int, code, msgPart string) {
	tb.Helper()
	wantStatus(tb, r, status)
	got, msg := r.errorCode(tb)
	if got != code {
		tb.Fatalf("code %s, want %s\n%s", got, code, r.raw)
	}
	if !strings.Contains(msg, msgPart) {
		tb.Fatalf("message %q does not contain %q", msg, msgPart)
	}
}

func compactJSON(tb testing.TB, s string) string {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func readResponse(tb testing.TB, resp *http.Response) response {
	tb.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

type edgeConfig = edge.Config

type routeInfo = edge.Route

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
