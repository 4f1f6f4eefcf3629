package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

const (
	testSecret  = "test-secret-key-0123456789abcdef-0123456789"
	callTimeout = 5 * time.Second
	testRegion  = "eu-1"
)

var seq atomic.Int64

type testEnv struct {
	nats *testkit.NATSServer
	nc   *nats.Conn
	db   *bun.DB
	svc  *Service
	reg  *prometheus.Registry
	stop func()
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.SecretKey = []byte(testSecret)
	cfg.ExpiryInterval = time.Hour
	cfg.LastSeenInterval = time.Hour
	return cfg
}

func newEnv(tb testing.TB, tune ...func(*Config)) *testEnv {
	tb.Helper()
	e := &testEnv{nats: testkit.NATS(tb)}
	e.nc = e.nats.Conn(tb)
	e.db = openDB(tb)
	cfg := testConfig()
	for _, f := range tune {
		f(&cfg)
	}
	e.svc, e.reg, e.stop = startService(tb, e.nats, e.db, cfg)
	e.region(tb, testRegion)
	return e
}

func openDB(tb testing.TB) *bun.DB {
	tb.Helper()
	dsn := testkit.Postgres(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := db.DefaultPool()
	pool.MaxOpenConns = 32
	pool.MaxIdleConns = 32
	d, err := db.Open(ctx, dsn, pool)
	if err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	if err := migrations.Up(ctx, d); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return d
}

// startService runs a Service until the test ends; stop ends it earlier and waits.
func startService(tb testing.TB, ns *testkit.NATSServer, d *bun.DB, cfg Config) (*Service, *prometheus.Registry, func()) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	svc, err := New(cfg, Deps{NC: ns.Conn(tb), DB: d, Log: testkit.Logger(tb), Registerer: reg})
	if err != nil {
		tb.Fatalf("new service: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		cancel()
		tb.Fatalf("service stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("service not ready within 10s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("service run: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return svc, reg, stop
}

func (e *testEnv) admin(resource, verb string, req schemas.AdminRequest) (schemas.AdminReply, error) {
	return rpc.Call[schemas.AdminReply](context.Background(), e.nc, schemas.AdminSubject(resource, verb), req, callTimeout)
}

// mustAdmin runs an admin command that has to succeed and decodes its data into out.
func (e *testEnv) mustAdmin(tb testing.TB, resource, verb string, req schemas.AdminRequest, out any) schemas.AdminReply {
	tb.Helper()
	rep, err := e.admin(resource, verb, req)
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

// adminErr runs an admin command that has to fail and returns its error.
func (e *testEnv) adminErr(tb testing.TB, resource, verb string, req schemas.AdminRequest) *schemas.RPCError {
	tb.Helper()
	rep, err := e.admin(resource, verb, req)
	if err == nil {
		tb.Fatalf("%s %s: want an error, got %+v (data %s)", resource, verb, rep, rep.Data)
	}
	re, ok := rpc.AsRPCError(err)
	if !ok {
		tb.Fatalf("%s %s: want an RPC error, got %v", resource, verb, err)
	}
	return re
}

func body(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	if s, ok := v.(string); ok {
		return json.RawMessage(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

func (e *testEnv) user(tb testing.TB, status string) User {
	tb.Helper()
	var u User
	b := map[string]any{"identifier": unique("user") + "@example.com", "identifier_kind": "email"}
	if status != "" {
		b["status"] = status
	}
	e.mustAdmin(tb, schemas.ResourceUsers, schemas.VerbCreate, schemas.AdminRequest{Body: body(tb, b)}, &u)
	return u
}

func (e *testEnv) plan(tb testing.TB, maxDevices int, trafficGB string) Plan {
	tb.Helper()
	b := map[string]any{"name": unique("plan-"), "max_devices": maxDevices}
	if trafficGB != "" {
		b["traffic_limit_gb"] = json.Number(trafficGB)
	}
	var p Plan
	e.mustAdmin(tb, schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: body(tb, b)}, &p)
	return p
}

func (e *testEnv) subscribe(tb testing.TB, userID, planID int64, days int) Subscription {
	tb.Helper()
	var s Subscription
	e.mustAdmin(tb, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: body(tb,
		map[string]any{"user_id": userID, "plan_id": planID, "days": days})}, &s)
	return s
}

func (e *testEnv) device(tb testing.TB, userID int64) IssuedDevice {
	tb.Helper()
	var d IssuedDevice
	e.mustAdmin(tb, schemas.ResourceDevices, schemas.VerbCreate, schemas.AdminRequest{Body: body(tb,
		map[string]any{"user_id": userID, "platform": "android"})}, &d)
	if d.AccessToken == "" {
		tb.Fatal("devices create returned no access_token")
	}
	return d
}

// subscriber is a user with a current subscription and one device.
func (e *testEnv) subscriber(tb testing.TB, maxDevices int, trafficGB string) (User, IssuedDevice) {
	tb.Helper()
	u := e.user(tb, "")
	p := e.plan(tb, maxDevices, trafficGB)
	e.subscribe(tb, u.ID, p.ID, 30)
	return u, e.device(tb, u.ID)
}

func (e *testEnv) region(tb testing.TB, code string) {
	tb.Helper()
	if _, err := e.db.NewRaw("INSERT INTO regions (code, name) VALUES (?, ?)", code, code).Exec(context.Background()); err != nil {
		tb.Fatalf("insert region: %v", err)
	}
}

func (e *testEnv) exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	if _, err := e.db.NewRaw(query, args...).Exec(context.Background()); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func (e *testEnv) validate(tb testing.TB, d IssuedDevice) schemas.ValidateDeviceReply {
	tb.Helper()
	return e.validateReq(tb, schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: d.AccessToken, Region: testRegion})
}

func (e *testEnv) validateReq(tb testing.TB, req schemas.ValidateDeviceRequest) schemas.ValidateDeviceReply {
	tb.Helper()
	rep, err := rpc.Call[schemas.ValidateDeviceReply](context.Background(), e.nc, schemas.SubjectValidateDevice, req, callTimeout)
	if err != nil {
		tb.Fatalf("validate-device: %v", err)
	}
	return rep
}

func refusal(rep schemas.ValidateDeviceReply) string {
	if rep.OK {
		return "ok"
	}
	if rep.Error == nil {
		return "refused without error"
	}
	return string(rep.Error.Code)
}

// controlEvents collects every control event published from now on.
type controlEvents struct {
	ch chan schemas.ControlEvent
}

func (e *testEnv) watchControl(tb testing.TB) *controlEvents {
	tb.Helper()
	c := &controlEvents{ch: make(chan schemas.ControlEvent, 64)}
	sub, err := e.nc.Subscribe(schemas.SubjectControlAll, func(m *nats.Msg) {
		var ev schemas.ControlEvent
		if err := rpc.Decode(m.Data, &ev); err != nil {
			tb.Errorf("control event %s: %v", m.Data, err)
			return
		}
		if ev.Subject() != m.Subject {
			tb.Errorf("control event published on %s, its subject is %s", m.Subject, ev.Subject())
		}
		c.ch <- ev
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.nc.Flush(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Unsubscribe() })
	return c
}

// next waits for the next event; events of other scopes and ids are skipped.
// eventWait bounds the wait for one control event; generous, so a loaded machine never fails a test.
const eventWait = 20 * time.Second

func (c *controlEvents) next(tb testing.TB, scope schemas.ControlScope, id string) schemas.ControlEvent {
	tb.Helper()
	deadline := time.After(eventWait)
	for {
		select {
		case ev := <-c.ch:
			if ev.Scope == scope && ev.ID == id {
				return ev
			}
		case <-deadline:
			tb.Fatalf("no control event for %s %s within %s", scope, id, eventWait)
		}
	}
}

// before waits for the event of scope and id and returns the events published before it.
func (c *controlEvents) before(tb testing.TB, scope schemas.ControlScope, id string) []schemas.ControlEvent {
	tb.Helper()
	var seen []schemas.ControlEvent
	deadline := time.After(eventWait)
	for {
		select {
		case ev := <-c.ch:
			if ev.Scope == scope && ev.ID == id {
				return seen
			}
			seen = append(seen, ev)
		case <-deadline:
			tb.Fatalf("no control event for %s %s within %s", scope, id, eventWait)
		}
	}
}

func isCode(err error, code schemas.ErrorCode) bool {
	var re *schemas.RPCError
	return errors.As(err, &re) && re.Code == code
}

func counterValue(tb testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if label == "" || (l.GetName() == label && l.GetValue() == value) {
					total += m.GetCounter().GetValue()
					break
				}
			}
		}
	}
	return total
}
