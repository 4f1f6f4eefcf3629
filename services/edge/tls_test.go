package edge_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

func TestEdgeServesHTTPSWithItsCertificate(t *testing.T) {
	dir := t.TempDir()
	caFile, pair, err := devtls.Pair(dir, "edge", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	h := startEdge(t, func(c *edge.Config) { c.TLSCert, c.TLSKey = pair.Cert, pair.Key })
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	secure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := secure.Get("https://" + h.svc.Addr() + "/api/v1/openapi.json")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("https status %d", resp.StatusCode)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + h.svc.Addr() + "/api/v1/openapi.json"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	}
}

func TestEdgeNamesAnUnreadableCertificate(t *testing.T) {
	cfg := testConfig()
	cfg.TLSCert, cfg.TLSKey = "/nonexistent/edge.pem", "/nonexistent/edge-key.pem"
	_, err := edge.New(cfg, edge.Deps{NC: testkit.NATS(t).Conn(t), Registerer: prometheus.NewRegistry()})
	if err == nil || !strings.HasPrefix(err.Error(), "edge: HTTVPS_EDGE_TLS_CERT/HTTVPS_EDGE_TLS_KEY: open /nonexistent/edge.pem") {
		t.Fatalf("err = %v", err)
	}
}
