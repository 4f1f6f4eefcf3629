package client_test

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
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/client/internal/stack"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

const (
	region = "cl-1"
	// outlineRegion's node is outline-ss-server, which passes half-closes on (ss-server does not).
	outlineRegion = "cl-2"
)

var userSeq atomic.Int64

// env is the real back end: embedded JetStream, PostgreSQL, accounts, node-registry, an
// ss-server process as the Outline node and the gateway.
type env struct {
	t       *testing.T
	nats    *testkit.NATSServer
	nc      *nats.Conn
	admin   stack.Admin
	device  stack.Device
	gw      *stack.Gateway
	gwCfg   gateway.Config
	log     zerolog.Logger
	certPEM string
	db      *bun.DB
}

func newEnv(t *testing.T, tune func(*gateway.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, nats: testkit.NATS(t), log: testkit.Logger(t)}
	e.nc = e.nats.Conn(t)
	bdb, err := db.Open(ctx, testkit.Postgres(t), db.DefaultPool())
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = bdb.Close() })
	e.db = bdb
	if err := migrations.Up(ctx, bdb); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	svcs, err := stack.ControlPlane{NC: e.nc, DB: bdb, Log: e.log, Aggregator: true}.Start(ctx)
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := svcs.Stop(); err != nil {
			t.Errorf("stop control plane: %v", err)
		}
	})
	ss, node, err := stack.SSServer(ctx)
	if err != nil {
		t.Fatalf("ss-server: %v", err)
	}
	t.Cleanup(ss.Stop)
	e.admin = stack.Admin{NC: e.nc}
	if err := e.admin.Region(ctx, region, node); err != nil {
		t.Fatal(err)
	}
	outline, stopOutline, err := stack.OutlineServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopOutline)
	if err := e.admin.Region(ctx, outlineRegion, outline); err != nil {
		t.Fatal(err)
	}
	e.device = e.subscriber(t)
	e.gwCfg = stack.GatewayConfig(region, "127.0.0.1:"+strconv.Itoa(testkit.FreePort(t)), t.TempDir(), e.nats.URL)
	if tune != nil {
		tune(&e.gwCfg)
	}
	e.startGateway(t)
	e.certPEM = e.gw.Svc.CertFile()
	return e
}

func (e *env) subscriber(t *testing.T) stack.Device {
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
	gw, err := stack.StartGateway(e.gwCfg, e.nats.Conn(e.t), e.log)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	e.gw = gw
	e.t.Cleanup(func() { _ = gw.Stop() })
}

func (e *env) config(d stack.Device, binary bool) client.Config {
	cfg := client.DefaultConfig()
	cfg.Gateway = e.gw.URL()
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
