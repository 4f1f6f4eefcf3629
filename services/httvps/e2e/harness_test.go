package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/rs/zerolog"
)

const (
	region = "cl-1"
	// outlineRegion's node is outline-ss-server, which passes half-closes on (ss-server does not).
	outlineRegion = "cl-2"
)

var userSeq atomic.Int64

// env is the real back end built by the system builder: embedded JetStream, PostgreSQL,
// accounts, node-registry, usage-aggregator, an ss-server process and an in-process Outline
// node, and the gateway.
type env struct {
	t       *testing.T
	sys     *system.System
	admin   system.Admin
	device  system.Device
	gw      *system.Unit[*gateway.Service]
	gwCfg   gateway.Config
	log     zerolog.Logger
	certPEM string
}

func newEnv(t *testing.T, tune func(*gateway.Config)) *env {
	t.Helper()
	return newEnvWith(t, tune, nil)
}

// newEnvWith is newEnv with setup changing the system's config before it starts.
func newEnvWith(t *testing.T, tune func(*gateway.Config), setup func(*system.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, log: testkit.Logger(t)}
	ss, node, err := system.SSServer(ctx, region)
	if err != nil {
		t.Fatalf("ss-server: %v", err)
	}
	t.Cleanup(ss.Stop)
	outline, on, err := system.OutlineNode("127.0.0.1:0", outlineRegion)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = on.Close() })
	cfg := system.Loopback(t.TempDir())
	cfg.DatabaseURL = testkit.Postgres(t)
	cfg.Outline = []system.Node{node, outline}
	e.gwCfg = system.LoopbackGateway(t.TempDir(), "gw-client", region)
	e.gwCfg.Listen = "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	if tune != nil {
		tune(&e.gwCfg)
	}
	cfg.Gateways = nil
	if setup != nil {
		setup(&cfg)
	}
	e.sys = startSystem(t, cfg)
	e.admin = e.sys.Admin()
	e.device = e.subscriber(t)
	e.startGateway(t)
	e.certPEM = e.gw.Service.CertFile()
	return e
}

// startSystem starts cfg and stops it when the test ends.
func startSystem(t *testing.T, cfg system.Config) *system.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sys, err := system.Start(ctx, cfg, testkit.Logger(t))
	if err != nil {
		t.Fatalf("start the system: %v", err)
	}
	t.Cleanup(func() {
		if err := sys.Stop(); err != nil {
			t.Errorf("stop the system: %v", err)
		}
	})
	return sys
}

func (e *env) subscriber(t *testing.T) system.Device {
	t.Helper()
	d, err := e.admin.Subscriber(context.Background(), fmt.Sprintf("client-%d", userSeq.Add(1)), 3)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startGateway runs the gateway (again) on e.gwCfg; it stops when the test of e ends.
func (e *env) startGateway(t *testing.T) {
	t.Helper()
	gw, err := e.sys.StartGateway(context.Background(), e.gwCfg)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	e.gw = gw
}

func (e *env) config(d system.Device, binary bool) client.Config {
	cfg := client.DefaultConfig()
	cfg.Gateway = system.WebSocketURL(e.gw.Service)
	cfg.CAFile = e.certPEM
	cfg.DeviceID = d.DeviceUUID
	cfg.Token = d.Token
	cfg.Region = region
	if !binary {
		cfg.SpecOnly()
	}
	cfg.BackoffMin = 20 * time.Millisecond
	cfg.BackoffMax = 200 * time.Millisecond
	return cfg
}

func (e *env) dial(t *testing.T, cfg client.Config) *client.Session {
	t.Helper()
	s, err := client.DialLogger(context.Background(), cfg, e.log)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runTunnel runs a Tunnel with a SOCKS5 listener until the test ends; it returns the listener
// address and a channel with Run's result.
func runTunnel(t *testing.T, cfg client.Config, log zerolog.Logger) (*client.Tunnel, string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tun := client.NewTunnel(cfg, log)
	srv := &client.SOCKSServer{Opener: tun, Log: log}
	served := make(chan error, 1)
	ran := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	go func() { ran <- tun.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("SOCKS Serve: %v", err)
		}
	})
	return tun, ln.Addr().String(), ran
}

// blob is size bytes of a pseudo-random sequence named by seed.
func blob(seed uint64, size int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 7})
	b := make([]byte, size)
	_, _ = r.Read(b)
	return b
}

// httpTarget serves /blob?seed=S&size=N and /digest (sha256 of a POST body) on 127.0.0.1.
func httpTarget(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		seed, _ := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
		size, err := strconv.Atoi(r.URL.Query().Get("size"))
		if err != nil || size < 0 || size > 64<<20 {
			http.Error(w, "size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = w.Write(blob(seed, size))
	})
	mux.HandleFunc("/digest", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func socksHTTPClient(t *testing.T, socksAddr string) *http.Client {
	t.Helper()
	tr := &http.Transport{
		Proxy:             http.ProxyURL(&url.URL{Scheme: "socks5h", Host: socksAddr}),
		DisableKeepAlives: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
