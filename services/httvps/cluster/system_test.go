package cluster_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	hsystem "github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

const (
	region     = "cl-1"
	ackWait    = 3 * time.Second
	rpcTimeout = 3 * time.Second
	waitLong   = 60 * time.Second
)

// system is the production shape on loopback, assembled by the system builder: each service
// copy on its own NATS connection, as separate processes would be.
type system struct {
	sys     *hsystem.System
	nats    *testkit.NATSCluster
	pg      *pglocal.Cluster
	pgDir   string
	pgPort  int
	admin   hsystem.Admin
	gwLinks testkit.Proxies
	// doomedURL is where the next extra aggregator copy connects (set before StartAggregator).
	doomedURL string
}

// gatewayRun is one gateway unit of the system.
type gatewayRun struct {
	svc *gateway.Service
	nc  *nats.Conn
}

func (g *gatewayRun) url() string { return hsystem.WebSocketURL(g.svc) }

func (s *system) gateway(i int) *gatewayRun {
	u := s.sys.Gateways()[i]
	return &gatewayRun{svc: u.Service, nc: u.NC}
}

// kill drops a unit's NATS connection at once, as a process dying would, then stops it.
func kill[S hsystem.Runner](u *hsystem.Unit[S]) {
	u.NC.Close()
	_ = u.Stop()
}

func startSystem(t *testing.T) *system {
	t.Helper()
	streams := natsx.DefaultStreams()
	streams.Replicas = 3
	streams.AckWait = ackWait
	s := &system{}
	s.nats = testkit.NATSJetStreamCluster(t, 3, streams)
	s.startPostgres(t)
	node, outline, err := hsystem.OutlineNode("127.0.0.1:0", region)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = outline.Close() })
	s.gwLinks = testkit.ProxyCluster(t, s.nats)

	cfg := hsystem.Loopback(t.TempDir())
	cfg.NATSURLs = strings.Split(s.nats.URLs(0), ",")
	cfg.NATSFor = s.natsFor
	cfg.Streams = streams
	cfg.DatabaseURL = s.pg.DSN("httvps")
	cfg.Copies = hsystem.Copies{Accounts: 2, NodeRegistry: 2, Aggregator: 2}
	cfg.Accounts.ExpiryInterval = time.Hour
	cfg.Aggregator.NakDelay = 200 * time.Millisecond
	cfg.Aggregator.DBTimeout = 5 * time.Second
	cfg.Outline = []hsystem.Node{node}
	cfg.Gateways = []gateway.Config{gatewayConfig(t, "gw-a"), gatewayConfig(t, "gw-b")}
	log := testkit.Logger(t).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.sys, err = hsystem.Start(ctx, cfg, log)
	if err != nil {
		t.Fatalf("start the system: %v", err)
	}
	t.Cleanup(func() { _ = s.sys.Stop() })
	s.admin = s.sys.Admin()
	return s
}

// natsFor puts the first gateway behind the cutting proxies, the second on node 2 first, and
// an extra aggregator copy on doomedURL.
func (s *system) natsFor(kind string, copy int) []string {
	switch {
	case kind == "gateway" && copy == 0:
		return strings.Split(s.gwLinks.URLs(0), ",")
	case kind == "gateway" && copy == 1:
		return strings.Split(s.nats.URLs(1), ",")
	case kind == "usage-aggregator" && copy >= 2 && s.doomedURL != "":
		return []string{s.doomedURL}
	}
	return nil
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

func gatewayConfig(t *testing.T, id string) gateway.Config {
	cfg := hsystem.LoopbackGateway(t.TempDir(), id, region)
	cfg.RequestTimeout = rpcTimeout
	cfg.UsageInterval = 200 * time.Millisecond
	cfg.HeartbeatInterval = 500 * time.Millisecond
	return cfg
}

func (s *system) call(t *testing.T, resource, verb string, req schemas.AdminRequest, out any) {
	t.Helper()
	if err := s.admin.Call(context.Background(), resource, verb, req, out); err != nil {
		t.Fatalf("%s %s: %v", resource, verb, err)
	}
}

type subscriber struct {
	UserID int64
	Device string
	Token  string
}

func (s *system) subscriber(t *testing.T, name string) subscriber {
	t.Helper()
	d, err := s.admin.Subscriber(context.Background(), name, 5)
	if err != nil {
		t.Fatalf("subscriber %s: %v", name, err)
	}
	return subscriber{UserID: d.UserID, Device: d.DeviceUUID, Token: d.Token}
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
	err := s.sys.DB().QueryRowContext(context.Background(), q, args...).Scan(dest...)
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
