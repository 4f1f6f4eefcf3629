package noderegistry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/schemas"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/uptrace/bun"
)

const (
	callTimeout = 5 * time.Second
	waitTimeout = 10 * time.Second
)

// harness is one PostgreSQL database and one embedded JetStream shared by the registry
// instances of a test.
type harness struct {
	nats *testkit.NATSServer
	nc   *nats.Conn
	js   jetstream.JetStream
	db   *bun.DB
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	srv := testkit.NATS(tb)
	bdb, err := db.Open(tb.Context(), testkit.Postgres(tb), db.DefaultPool())
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { _ = bdb.Close() })
	if err := migrations.Up(tb.Context(), bdb); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	nc := srv.Conn(tb)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return &harness{nats: srv, nc: nc, js: js, db: bdb}
}

type instance struct {
	reg *prometheus.Registry
}

func fastConfig() noderegistry.Config {
	cfg := noderegistry.DefaultConfig()
	cfg.FetchWait = 50 * time.Millisecond
	cfg.NakDelay = 50 * time.Millisecond
	cfg.SweepInterval = time.Hour
	return cfg
}

// start runs a registry instance on its own NATS connection until the test ends.
func (h *harness) start(tb testing.TB, cfg noderegistry.Config) *instance {
	tb.Helper()
	reg := prometheus.NewRegistry()
	svc, err := noderegistry.New(cfg, noderegistry.Deps{
		NC: h.nats.Conn(tb), DB: h.db, Log: testkit.Logger(tb), Registerer: reg,
	})
	if err != nil {
		tb.Fatalf("new: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := svc.Run(ctx); err != nil {
			tb.Errorf("run: %v", err)
		}
	})
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	testkit.Eventually(tb, waitTimeout, "registry answers", func() bool {
		_, err := rpc.Call[schemas.AdminReply](context.Background(), h.nc,
			schemas.AdminSubject(schemas.ResourceRegions, schemas.VerbList), schemas.AdminRequest{}, callTimeout)
		return !errors.Is(err, rpc.ErrUnavailable)
	})
	return &instance{reg: reg}
}

func (h *harness) admin(tb testing.TB, resource, verb string, req schemas.AdminRequest) (schemas.AdminReply, error) {
	tb.Helper()
	return rpc.Call[schemas.AdminReply](context.Background(), h.nc, schemas.AdminSubject(resource, verb), req, callTimeout)
}

// mustAdmin calls an admin command that must succeed and decodes its data into out.
func (h *harness) mustAdmin(tb testing.TB, resource, verb string, req schemas.AdminRequest, out any) schemas.AdminReply {
	tb.Helper()
	rep, err := h.admin(tb, resource, verb, req)
	if err != nil {
		tb.Fatalf("%s %s: %v", resource, verb, err)
	}
	if !rep.OK {
		tb.Fatalf("%s %s: not ok: %+v", resource, verb, rep.Error)
	}
	if out != nil {
		if err := json.Unmarshal(rep.Data, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", resource, verb, rep.Data, err)
		}
	}
	return rep
}

func body(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

type regionView struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type outlineView struct {
	ID                int64      `json:"id"`
	RegionID          int64      `json:"region_id"`
	Region            string     `json:"region"`
	HealthStatus      string     `json:"health_status"`
	HealthReason      string     `json:"health_reason"`
	ActiveConnections int        `json:"active_connections"`
	DialFailedAt      *time.Time `json:"dial_failed_at"`
	ActiveSessions    int        `json:"active_sessions"`
	MaxSessions       int        `json:"max_sessions"`
	LastHeartbeatAt   *time.Time `json:"last_heartbeat_at"`
}

type gatewayView struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	Region          *string    `json:"region"`
	Status          string     `json:"status"`
	Sessions        int        `json:"sessions"`
	Streams         int        `json:"streams"`
	Version         string     `json:"version"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at"`
}

func (h *harness) createRegion(tb testing.TB, code string) regionView {
	tb.Helper()
	var r regionView
	h.mustAdmin(tb, schemas.ResourceRegions, schemas.VerbCreate,
		schemas.AdminRequest{Body: body(tb, map[string]any{"code": code, "name": "Region " + code})}, &r)
	return r
}

var portSeq struct {
	sync.Mutex
	next int
}

func nextPort() int {
	portSeq.Lock()
	defer portSeq.Unlock()
	portSeq.next++
	return 10000 + portSeq.next
}

type nodeSpec struct {
	maxSessions int
	health      string
}

func (h *harness) createNode(tb testing.TB, region string, spec nodeSpec) outlineView {
	tb.Helper()
	b := map[string]any{
		"region": region, "name": "node", "internal_ip": "10.0.0.1", "ss_port": nextPort(),
		"ss_method": "chacha20-ietf-poly1305", "ss_password": testPassword, "max_sessions": spec.maxSessions,
	}
	if spec.health != "" {
		b["health_status"] = spec.health
	}
	var n outlineView
	h.mustAdmin(tb, schemas.ResourceOutlineNodes, schemas.VerbCreate, schemas.AdminRequest{Body: body(tb, b)}, &n)
	return n
}

const testPassword = "s3cret-password-never-shown"

func (h *harness) node(tb testing.TB, id int64) outlineView {
	tb.Helper()
	var n outlineView
	h.mustAdmin(tb, schemas.ResourceOutlineNodes, schemas.VerbGet, schemas.AdminRequest{ID: id}, &n)
	return n
}

func (h *harness) gateway(tb testing.TB, name string) (gatewayView, bool) {
	tb.Helper()
	rep, err := h.admin(tb, schemas.ResourceGatewayNodes, schemas.VerbGet, schemas.AdminRequest{Key: name})
	var re *schemas.RPCError
	if errors.As(err, &re) && re.Code == schemas.CodeNotFound {
		return gatewayView{}, false
	}
	if err != nil {
		tb.Fatalf("get gateway %s: %v", name, err)
	}
	var g gatewayView
	if err := json.Unmarshal(rep.Data, &g); err != nil {
		tb.Fatal(err)
	}
	return g, true
}

// addSessions counts n active sessions against a node directly in the database.
func (h *harness) addSessions(tb testing.TB, nodeID int64, n int) {
	tb.Helper()
	_, err := h.db.ExecContext(tb.Context(), `INSERT INTO outline_node_sessions (session_id, outline_node_id)
		SELECT gen_random_uuid(), ? FROM generate_series(1, ?)`, nodeID, n)
	if err != nil {
		tb.Fatalf("add sessions: %v", err)
	}
}

func (h *harness) publish(tb testing.TB, subject string, v any) {
	tb.Helper()
	if err := h.tryPublish(tb, subject, v); err != nil {
		tb.Fatal(err)
	}
}

// tryPublish publishes v (raw when it is []byte) and reports errors with Errorf, so it may run
// on any goroutine.
func (h *harness) tryPublish(tb testing.TB, subject string, v any) error {
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if _, err := h.js.Publish(context.Background(), subject, data); err != nil {
		tb.Errorf("publish %s: %v", subject, err)
		return err
	}
	return nil
}

func (h *harness) assign(tb testing.TB, req schemas.AssignOutlineRequest) (schemas.AssignOutlineReply, error) {
	tb.Helper()
	return rpc.Call[schemas.AssignOutlineReply](context.Background(), h.nc, schemas.SubjectAssignOutline, req, callTimeout)
}

// metric sums the values of the samples of a metric family whose labels include labels.
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				sum += value(m)
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

func rpcCode(err error) schemas.ErrorCode {
	var re *schemas.RPCError
	if errors.As(err, &re) {
		return re.Code
	}
	if err != nil {
		return schemas.ErrorCode(fmt.Sprintf("non-rpc error: %v", err))
	}
	return ""
}
