package usageaggregator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

const waitTimeout = 20 * time.Second

type harness struct {
	nats *testkit.NATSServer
	nc   *nats.Conn
	js   jetstream.JetStream
	db   *bun.DB
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	n := testkit.NATS(tb)
	h := &harness{nats: n, nc: n.Conn(tb), db: openMigrated(tb)}
	js, err := jetstream.New(h.nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	h.js = js
	return h
}

func openMigrated(tb testing.TB) *bun.DB {
	tb.Helper()
	pool := db.DefaultPool()
	bdb, err := db.Open(tb.Context(), testkit.Postgres(tb), pool)
	if err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { _ = bdb.Close() })
	if err := migrations.Up(tb.Context(), bdb); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return bdb
}

func testConfig() Config {
	c := DefaultConfig()
	c.FetchWait = 50 * time.Millisecond
	c.NakDelay = 50 * time.Millisecond
	c.SweepInterval = time.Hour
	c.PendingInterval = 50 * time.Millisecond
	return c
}

type running struct {
	svc *Service
	reg *prometheus.Registry
}

// start runs a Service on its own NATS connection until the test ends.
func (h *harness) start(tb testing.TB, cfg Config) *running {
	tb.Helper()
	reg := prometheus.NewRegistry()
	svc, err := New(cfg, Deps{NC: h.nats.Conn(tb), DB: h.db, Log: testkit.Logger(tb), Registerer: reg})
	if err != nil {
		tb.Fatalf("new service: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("run: %v", err)
			}
		case <-time.After(waitTimeout):
			tb.Errorf("service did not stop within %s", waitTimeout)
		}
	})
	return &running{svc: svc, reg: reg}
}

func (h *harness) publish(tb testing.TB, subject, msgID string, v any) uint64 {
	tb.Helper()
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			tb.Fatalf("encode: %v", err)
		}
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(schemas.HeaderMsgID, msgID)
	}
	ack, err := h.js.PublishMsg(tb.Context(), msg)
	if err != nil {
		tb.Fatalf("publish %s: %v", subject, err)
	}
	return ack.Sequence
}

func (h *harness) publishUsage(tb testing.TB, r schemas.UsageReport) {
	tb.Helper()
	h.publish(tb, schemas.UsageSubject(r.Region, r.GatewayID), schemas.UsageMsgID(r.SessionID, r.Seq), r)
}

// drained waits until the durable has delivered and settled every message in its stream.
func (h *harness) drained(tb testing.TB, stream, consumer string) {
	tb.Helper()
	testkit.Eventually(tb, waitTimeout, consumer+" drained", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := h.js.Stream(ctx, stream)
		if err != nil {
			return false
		}
		c, err := s.Consumer(ctx, consumer)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false
		}
		return info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream >= s.CachedInfo().State.LastSeq
	})
}

func (h *harness) drainedUsage(tb testing.TB) {
	tb.Helper()
	h.drained(tb, schemas.StreamUsage, schemas.ConsumerUsageAggregator)
}

func (h *harness) drainedSessions(tb testing.TB) {
	tb.Helper()
	h.drained(tb, schemas.StreamSessions, schemas.ConsumerSessionsAggregator)
}

var seedSeq atomic.Int64

func (h *harness) exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	if _, err := h.db.ExecContext(tb.Context(), query, args...); err != nil {
		tb.Fatalf("%s: %v", strings.TrimSpace(query), err)
	}
}

func (h *harness) insertID(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	var id int64
	if err := h.db.QueryRowContext(tb.Context(), query, args...).Scan(&id); err != nil {
		tb.Fatalf("%s: %v", strings.TrimSpace(query), err)
	}
	return id
}

func (h *harness) createUser(tb testing.TB) int64 {
	tb.Helper()
	return h.insertID(tb, `INSERT INTO users (identifier, identifier_kind) VALUES (?, 'email') RETURNING id`,
		fmt.Sprintf("user%d@example.com", seedSeq.Add(1)))
}

// createPlan makes a plan; limitGB 0 means unlimited.
func (h *harness) createPlan(tb testing.TB, limitGB string) int64 {
	tb.Helper()
	var limit any
	if limitGB != "" {
		limit = limitGB
	}
	return h.insertID(tb, `INSERT INTO plans (name, max_devices, traffic_limit_gb) VALUES (?, 5, ?::numeric) RETURNING id`,
		fmt.Sprintf("plan-%d", seedSeq.Add(1)), limit)
}

func (h *harness) subscribe(tb testing.TB, userID, planID int64) {
	tb.Helper()
	h.exec(tb, `INSERT INTO subscriptions (user_id, plan_id, valid_until) VALUES (?, ?, now() + interval '30 days')`, userID, planID)
}

func (h *harness) createDevice(tb testing.TB, userID int64) (int64, string) {
	tb.Helper()
	uuid := fmt.Sprintf("device-%d", seedSeq.Add(1))
	id := h.insertID(tb, `INSERT INTO devices (user_id, device_uuid, platform) VALUES (?, ?, 'linux') RETURNING id`, userID, uuid)
	return id, uuid
}

func (h *harness) createGateway(tb testing.TB, name string, lastHeartbeat time.Time) int64 {
	tb.Helper()
	return h.insertID(tb, `INSERT INTO gateway_nodes (name, last_heartbeat_at) VALUES (?, ?) RETURNING id`, name, lastHeartbeat)
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

type storedSession struct {
	UserID    int64
	DeviceID  int64
	Gateway   string
	GatewayID int64
	Outline   int64
	Region    string
	StartedAt time.Time
	EndedAt   *time.Time
	EndReason string
	BytesUp   int64
	BytesDown int64
	LastSeq   int64
}

func (h *harness) session(tb testing.TB, id string) (storedSession, bool) {
	tb.Helper()
	var s storedSession
	err := h.db.QueryRowContext(tb.Context(), `
		SELECT COALESCE(user_id, 0), COALESCE(device_id, 0), gateway_node_name, COALESCE(gateway_node_id, 0),
			COALESCE(outline_node_id, 0), region, started_at, ended_at, COALESCE(end_reason, ''), bytes_up, bytes_down, last_seq
		FROM sessions WHERE id = ?`, id).Scan(&s.UserID, &s.DeviceID, &s.Gateway, &s.GatewayID, &s.Outline, &s.Region,
		&s.StartedAt, &s.EndedAt, &s.EndReason, &s.BytesUp, &s.BytesDown, &s.LastSeq)
	if err != nil {
		return s, false
	}
	return s, true
}

func (h *harness) periodUsage(tb testing.TB, userID int64) byteTotals {
	tb.Helper()
	var t byteTotals
	err := h.db.QueryRowContext(tb.Context(), `
		SELECT COALESCE(sum(bytes_up), 0), COALESCE(sum(bytes_down), 0) FROM usage_periods WHERE user_id = ?`, userID).
		Scan(&t.Up, &t.Down)
	if err != nil {
		tb.Fatalf("usage of user %d: %v", userID, err)
	}
	return t
}

func (h *harness) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := h.db.QueryRowContext(tb.Context(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", strings.TrimSpace(query), err)
	}
	return n
}
