package cluster_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/outlinenode"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const (
	region     = "cl-1"
	secretKey  = "cluster-test-secret-key-0123456789abcdef-012345"
	ssPassword = "cluster-test-shadowsocks-password"
	ackWait    = 3 * time.Second
	rpcTimeout = 3 * time.Second
	waitLong   = 60 * time.Second
)

// system is the production shape on loopback. Each service copy has its own NATS connection,
// as separate processes would.
type system struct {
	nats     *testkit.NATSCluster
	pg       *pglocal.Cluster
	pgDir    string
	pgPort   int
	dsn      string
	db       *bun.DB
	admin    admin.Client
	outline  *outlinenode.Node
	copies   map[string][]*copyOf
	gateways []*gatewayRun
	gwLinks  testkit.Proxies
	log      zerolog.Logger
}

// copyOf is one running copy of a service.
type copyOf struct {
	name   string
	nc     *nats.Conn
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// kill drops the copy's NATS connection at once, as a process dying would, and stops it.
func (c *copyOf) kill() {
	c.nc.Close()
	c.cancel()
	<-c.done
}

type gatewayRun struct {
	svc *gateway.Service
	nc  *nats.Conn
	copyOf
}

func (g *gatewayRun) url() string { return "wss://" + g.svc.Addr() + "/ws" }

func startSystem(t *testing.T) *system {
	t.Helper()
	streams := natsx.DefaultStreams()
	streams.Replicas = 3
	streams.AckWait = ackWait
	s := &system{copies: map[string][]*copyOf{}, log: testkit.Logger(t).Level(zerolog.WarnLevel)}
	s.nats = testkit.NATSJetStreamCluster(t, 3, streams)
	s.startPostgres(t)
	node, err := outlinenode.Start(outlinenode.Config{Addr: "127.0.0.1:0", Method: outlinenode.DefaultMethod, Password: ssPassword, KeyID: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close() })
	s.outline = node
	for i := range 2 {
		s.runAccounts(t, i)
		s.runRegistry(t, i)
		s.runAggregator(t, i)
	}
	s.admin = admin.Client{NC: s.nats.Conn(t, 2), Timeout: 10 * time.Second}
	s.seedRegion(t)
	s.gwLinks = testkit.ProxyCluster(t, s.nats)
	s.gateways = append(s.gateways, s.runGateway(t, "gw-a", s.gwLinks.URLs(0)), s.runGateway(t, "gw-b", s.nats.URLs(1)))
	return s
}

func (s *system) startPostgres(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.pgDir = filepath.Join(dir, "pg")
	c, err := pglocal.StartCluster(context.Background(), s.pgDir, 0, nil)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	s.pg, s.pgPort = c, c.Port()
	t.Cleanup(func() { _ = s.pg.Stop(context.Background()) })
	if err := c.CreateDatabase(context.Background(), "httvps"); err != nil {
		t.Fatal(err)
	}
	s.dsn = c.DSN("httvps")
	pool := db.DefaultPool()
	pool.MaxOpenConns = 16
	s.db, err = db.Open(context.Background(), s.dsn, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.db.Close() })
	if err := migrations.Up(context.Background(), s.db); err != nil {
		t.Fatal(err)
	}
}

// restartPostgres stops the server and starts it again on the same port and data.
func (s *system) restartPostgres(t *testing.T, down time.Duration) {
	t.Helper()
	if err := s.pg.Stop(context.Background()); err != nil {
		t.Fatalf("stop postgres: %v", err)
	}
	time.Sleep(down) // the outage itself, not a wait for a condition
	c, err := pglocal.StartCluster(context.Background(), s.pgDir, s.pgPort, nil)
	if err != nil {
		t.Fatalf("start postgres again: %v", err)
	}
	s.pg = c
}

func (s *system) start(t *testing.T, kind string, nc *nats.Conn, reg *prometheus.Registry, run func(context.Context) error) *copyOf {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &copyOf{name: fmt.Sprintf("%s-%d", kind, len(s.copies[kind])), nc: nc, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() {
		c.err = run(ctx)
		close(c.done)
	}()
	s.copies[kind] = append(s.copies[kind], c)
	t.Cleanup(func() {
		cancel()
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			t.Errorf("%s did not stop", c.name)
		}
	})
	return c
}

func (s *system) runAccounts(t *testing.T, i int) *copyOf {
	t.Helper()
	cfg := accounts.DefaultConfig()
	cfg.SecretKey = []byte(secretKey)
	cfg.ExpiryInterval = time.Hour
	reg := prometheus.NewRegistry()
	nc := s.nats.Conn(t, i)
	svc, err := accounts.New(cfg, accounts.Deps{NC: nc, DB: s.db, Log: s.log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	c := s.start(t, "accounts", nc, reg, svc.Run)
	select {
	case <-svc.Ready():
	case <-time.After(waitLong):
		t.Fatal("accounts not ready")
	}
	return c
}

func (s *system) runRegistry(t *testing.T, i int) *copyOf {
	t.Helper()
	cfg := noderegistry.DefaultConfig()
	cfg.FetchWait = 100 * time.Millisecond
	reg := prometheus.NewRegistry()
	nc := s.nats.Conn(t, i)
	svc, err := noderegistry.New(cfg, noderegistry.Deps{NC: nc, DB: s.db, Log: s.log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return s.start(t, "node-registry", nc, reg, svc.Run)
}

func (s *system) runAggregator(t *testing.T, i int) *copyOf {
	t.Helper()
	return s.runAggregatorOn(t, s.nats.Conn(t, i))
}

func (s *system) runAggregatorOn(t *testing.T, nc *nats.Conn) *copyOf {
	t.Helper()
	cfg := usageaggregator.DefaultConfig()
	cfg.FetchWait = 100 * time.Millisecond
	cfg.NakDelay = 200 * time.Millisecond
	cfg.DBTimeout = 5 * time.Second
	reg := prometheus.NewRegistry()
	svc, err := usageaggregator.New(cfg, usageaggregator.Deps{NC: nc, DB: s.db, Log: s.log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return s.start(t, "usage-aggregator", nc, reg, svc.Run)
}

func gatewayConfig(t *testing.T, id string) gateway.Config {
	cfg := gateway.DefaultConfig()
	cfg.GatewayID = id
	cfg.Region = region
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSDir = t.TempDir()
	cfg.RequestTimeout = rpcTimeout
	cfg.UsageInterval = 200 * time.Millisecond
	cfg.HeartbeatInterval = 500 * time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return cfg
}

func (s *system) runGateway(t *testing.T, id, urls string) *gatewayRun {
	t.Helper()
	nc := testkit.DialOrdered(t, urls)
	reg := prometheus.NewRegistry()
	svc, err := gateway.New(gatewayConfig(t, id), gateway.Deps{NC: nc, Log: s.log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	c := s.start(t, "gateway", nc, reg, svc.Run)
	return &gatewayRun{svc: svc, nc: nc, copyOf: *c}
}

func (s *system) call(t *testing.T, resource, verb string, req schemas.AdminRequest, out any) {
	t.Helper()
	if err := s.admin.Call(context.Background(), resource, verb, req, out); err != nil {
		t.Fatalf("%s %s: %v", resource, verb, err)
	}
}

func (s *system) create(t *testing.T, resource string, body any, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	s.call(t, resource, schemas.VerbCreate, schemas.AdminRequest{Body: raw}, out)
}

func (s *system) seedRegion(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, waitLong, "node-registry answers admin commands", func() bool {
		return s.admin.Call(context.Background(), schemas.ResourceRegions, schemas.VerbList, schemas.AdminRequest{}, nil) == nil
	})
	s.create(t, schemas.ResourceRegions, map[string]any{"code": region, "name": region}, nil)
	addr := s.outline.Addr()
	s.create(t, schemas.ResourceOutlineNodes, map[string]any{
		"region": region, "name": "cl-outline", "internal_ip": addr.IP.String(), "ss_port": addr.Port,
		"ss_method": outlinenode.DefaultMethod, "ss_password": ssPassword, "max_sessions": 1000,
	}, nil)
}

type subscriber struct {
	UserID int64  `json:"user_id"`
	Device string `json:"device_uuid"`
	Token  string `json:"access_token"`
}

func (s *system) subscriber(t *testing.T, name string) subscriber {
	t.Helper()
	var user, plan struct {
		ID int64 `json:"id"`
	}
	s.create(t, schemas.ResourceUsers, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"}, &user)
	s.create(t, schemas.ResourcePlans, map[string]any{"name": "plan-" + name, "max_devices": 5}, &plan)
	s.create(t, schemas.ResourceSubscriptions, map[string]any{"user_id": user.ID, "plan_id": plan.ID, "days": 30}, nil)
	var d subscriber
	s.create(t, schemas.ResourceDevices, map[string]any{"user_id": user.ID, "platform": "linux"}, &d)
	return d
}

func (s *system) dial(t *testing.T, gw *gatewayRun, sub subscriber) (*client.Session, error) {
	t.Helper()
	return s.dialURL(t, gw.url(), sub)
}

func (s *system) dialURL(t *testing.T, url string, sub subscriber) (*client.Session, error) {
	t.Helper()
	cfg := client.DefaultConfig()
	cfg.Gateway = url
	cfg.Insecure = true
	cfg.DeviceID, cfg.Token, cfg.Region = sub.Device, sub.Token, region
	cfg.Binary, cfg.FlowControl = true, true
	cfg.DialTimeout = 5 * time.Second
	cfg.HelloTimeout = 2 * rpcTimeout
	ctx, cancel := context.WithTimeout(context.Background(), 2*rpcTimeout)
	defer cancel()
	sess, err := client.Dial(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { _ = sess.Close() })
	}
	return sess, err
}

func (s *system) mustDial(t *testing.T, gw *gatewayRun, sub subscriber) *client.Session {
	t.Helper()
	return s.mustDialURL(t, gw.url(), sub)
}

func (s *system) mustDialURL(t *testing.T, url string, sub subscriber) *client.Session {
	t.Helper()
	sess, err := s.dialURL(t, url, sub)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return sess
}

func (s *system) query(t *testing.T, q string, args []any, dest ...any) bool {
	t.Helper()
	err := s.db.QueryRowContext(context.Background(), q, args...).Scan(dest...)
	if err != nil && err != sql.ErrNoRows && !strings.Contains(err.Error(), "connection") {
		t.Fatalf("%s: %v", q, err)
	}
	return err == nil
}

// sessionRow is what PostgreSQL holds about a session.
type sessionRow struct {
	Down, Up  int64
	Ended     bool
	EndReason string
}

func (s *system) session(t *testing.T, id string) (sessionRow, bool) {
	t.Helper()
	var r sessionRow
	var reason sql.NullString
	ok := s.query(t, `SELECT bytes_down, bytes_up, ended_at IS NOT NULL, end_reason FROM sessions WHERE id = ?`,
		[]any{id}, &r.Down, &r.Up, &r.Ended, &reason)
	r.EndReason = reason.String
	return r, ok
}

// download is a live transfer through a session: a local target streams bytes until stopped
// and the client counts what it read.
type download struct {
	stream *client.Stream
	read   sync.Mutex
	n      int64
	err    error
	done   chan struct{}
}

func (d *download) bytes() int64 {
	d.read.Lock()
	defer d.read.Unlock()
	return d.n
}

// trickle is a target that writes to every connection until Finish, then closes it cleanly.
type trickle struct {
	addr     string
	finished chan struct{}
	once     sync.Once
}

func (tr *trickle) Finish() { tr.once.Do(func() { close(tr.finished) }) }

func startTrickle(t *testing.T) *trickle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trickle{addr: ln.Addr().String(), finished: make(chan struct{})}
	t.Cleanup(func() {
		tr.Finish()
		ln.Close()
	})
	chunk := make([]byte, 16<<10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-tr.finished:
						return
					case <-tick.C:
					}
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}()
		}
	}()
	return tr
}

func startDownload(t *testing.T, sess *client.Session, target string) *download {
	t.Helper()
	st, err := sess.OpenStream(context.Background(), target)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	d := &download{stream: st, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := st.Read(buf)
			d.read.Lock()
			d.n += int64(n)
			if err != nil {
				d.err = err
			}
			d.read.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = st.Close() })
	return d
}

// finish waits for the stream to end after the target finished and returns the bytes read.
func (d *download) finish(t *testing.T) int64 {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatal("download did not end after its target finished")
	}
	if d.err != nil && d.err != io.EOF {
		t.Fatalf("download: %v", d.err)
	}
	return d.bytes()
}

// grows waits until the download moved more than it had.
func (d *download) grows(t *testing.T, what string) {
	t.Helper()
	before := d.bytes()
	testkit.Eventually(t, 10*time.Second, what, func() bool { return d.bytes() > before })
}

// finalTotalsMatch ends the download and the session and waits for PostgreSQL to hold exactly
// the bytes the client read as the session's final total.
func (s *system) finalTotalsMatch(t *testing.T, sess *client.Session, d *download, tr *trickle) {
	t.Helper()
	tr.Finish()
	moved := d.finish(t)
	id := sess.ID()
	_ = sess.Close()
	var row sessionRow
	testkit.Eventually(t, waitLong, "the session's final totals in PostgreSQL", func() bool {
		var ok bool
		row, ok = s.session(t, id)
		return ok && row.Ended && row.Down >= moved
	})
	if row.Down != moved {
		t.Fatalf("PostgreSQL holds %d bytes down for the session, the client read %d", row.Down, moved)
	}
}
