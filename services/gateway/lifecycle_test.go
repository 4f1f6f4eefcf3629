package gateway_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/shared/testkit"
)

func TestShutdownSendsGatewayShutdownAndFlushesUsage(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.UsageInterval = time.Hour })
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	moved := moveBytes(t, c, echo.Addr, 2, 50<<10)
	open := c.Open(echo.Addr)
	if err := open.Write([]byte("hold")); err != nil {
		t.Fatal(err)
	}
	if _, err := open.ReadN(4, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	moved += 4
	if err := w.gw.Stop(t); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	e, err := c.NextError(time.Second)
	if err != nil || e.Code != schemas.CodeGatewayShutdown {
		t.Fatalf("error = %+v (%v), want GATEWAY_SHUTDOWN", e, err)
	}
	final, ok := finalReport(t, w.nats, c.HelloOK.SessionID)
	if !ok || final.BytesUp != moved || final.BytesDown != moved {
		t.Fatalf("final report = %+v (found %v), want %d", final, ok, moved)
	}
	_, ended := sessionEvents(t, w.nats, c.HelloOK.SessionID)
	if ended == nil || ended.Reason != schemas.EndReasonShutdown {
		t.Fatalf("ended = %+v", ended)
	}
	var hb schemas.GatewayHeartbeat
	for _, m := range streamMessages(t, w.nats, schemas.StreamHeartbeats) {
		if m.subject == schemas.GatewayHeartbeatSubject(testenv.GatewayID) {
			_ = json.Unmarshal(m.data, &hb)
		}
	}
	if hb.Status != schemas.GatewayStatusOffline {
		t.Fatalf("last heartbeat status = %q, want offline", hb.Status)
	}
}

func TestIdleTimeout(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.PingInterval = 50 * time.Millisecond
		c.IdleTimeout = 300 * time.Millisecond
	})
	alive := w.connect(t)
	silent := w.connect(t)
	silent.StopPongs()
	e, err := silent.NextError(5 * time.Second)
	if err != nil || e.Code != schemas.CodeIdleTimeout {
		t.Fatalf("error = %+v (%v), want IDLE_TIMEOUT", e, err)
	}
	if ended := waitEnded(t, w.nats, silent.HelloOK.SessionID); ended.Reason != schemas.EndReasonIdle {
		t.Fatalf("ended = %+v", ended)
	}
	stillWorks(t, alive, testenv.EchoTarget(t).Addr)
}

func TestNodeFailover(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	dead := testenv.DeadNode(t, 2, testenv.Region)
	w.cp.SetNodes(testenv.Region, dead, w.node)
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	stillWorks(t, c, echo.Addr)
	calls := w.cp.AssignCalls()
	last := calls[len(calls)-1]
	if len(last.ExcludeNodeIDs) != 1 || last.ExcludeNodeIDs[0] != dead.NodeID || last.UserID != userID || last.DeviceID != deviceID {
		t.Fatalf("reassignment request = %+v, want node %d excluded", last, dead.NodeID)
	}
	stillWorks(t, c, echo.Addr)
	if n := len(w.cp.AssignCalls()); n != len(calls) {
		t.Fatalf("assign-outline asked again (%d calls, want %d): streams must stay on the replacement", n, len(calls))
	}

	w.cp.SetNodes(testenv.Region, dead, testenv.DeadNode(t, 3, testenv.Region))
	stranded := w.connect(t)
	st := stranded.Open(echo.Addr)
	if code, err := st.WaitClosed(10 * time.Second); err != nil || code != schemas.CodeUpstreamUnreachable {
		t.Fatalf("all nodes down: close code = %q (%v), want UPSTREAM_UNREACHABLE", code, err)
	}
	w.cp.SetNodes(testenv.Region, w.node)
	stillWorks(t, stranded, echo.Addr)
}

func TestHealthAndMetricsEndpoints(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	c := w.connect(t)
	stillWorks(t, c, testenv.EchoTarget(t).Addr)
	client := httpsClient(t, w.gw)
	body, status := get(t, client, "https://"+w.gw.Svc.Addr()+"/healthz")
	if status != http.StatusOK || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"sessions":1`) {
		t.Fatalf("healthz = %d %s", status, body)
	}
	body, status = get(t, client, "https://"+w.gw.Svc.Addr()+"/metrics")
	for _, want := range []string{
		"httvps_gateway_sessions_active 1", `httvps_gateway_handshakes_total{result="ok"} 1`,
		`httvps_gateway_bytes_total{direction="up"}`, `httvps_gateway_nats_request_duration_seconds_count{op="validate_device"} 1`,
		`httvps_gateway_upstream_dial_errors_total{kind="node"} 0`, "httvps_gateway_streams_active 0",
	} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
	w.nats.Shutdown()
	testkit.Eventually(t, 5*time.Second, "healthz reports NATS away", func() bool {
		_, status := get(t, client, "https://"+w.gw.Svc.Addr()+"/healthz")
		return status == http.StatusServiceUnavailable
	})
}

func httpsClient(t testing.TB, g *testenv.Gateway) *http.Client {
	pem, err := os.ReadFile(g.Svc.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func get(t testing.TB, c *http.Client, url string) (string, int) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}
