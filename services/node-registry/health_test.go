package noderegistry_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
)

// moves collects the move events node-registry sends to gateways.
type moves struct{ ch chan schemas.ControlEvent }

func (h *harness) watchMoves(tb testing.TB) *moves {
	tb.Helper()
	m := &moves{ch: make(chan schemas.ControlEvent, 64)}
	sub, err := h.nc.Subscribe(schemas.SubjectOutlineMoveAll, func(msg *nats.Msg) {
		var ev schemas.ControlEvent
		if json.Unmarshal(msg.Data, &ev) == nil && msg.Subject == ev.Subject() {
			m.ch <- ev
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = h.nc.Flush()
	return m
}

func (m *moves) next(tb testing.TB, node int64) schemas.ControlEvent {
	tb.Helper()
	select {
	case ev := <-m.ch:
		if ev.ID != strconv.FormatInt(node, 10) || ev.What != schemas.ControlMove {
			tb.Fatalf("move event = %+v, want node %d", ev, node)
		}
		return ev
	case <-time.After(waitTimeout):
		tb.Fatalf("no move event for node %d", node)
	}
	return schemas.ControlEvent{}
}

func (m *moves) none(tb testing.TB) {
	tb.Helper()
	select {
	case ev := <-m.ch:
		tb.Fatalf("unexpected move event %+v", ev)
	default:
	}
}

func (h *harness) reportDials(tb testing.TB, gateway string, counts ...schemas.OutlineDialCount) {
	tb.Helper()
	data, err := json.Marshal(schemas.OutlineDialReport{GatewayID: gateway, Nodes: counts, SentAt: time.Now().UTC()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.nc.Publish(schemas.OutlineDialsSubject(gateway), data); err != nil {
		tb.Fatal(err)
	}
}

func (h *harness) assigned(tb testing.TB, region string) int64 {
	tb.Helper()
	rep, err := h.assign(tb, schemas.AssignOutlineRequest{Region: region, UserID: 1, DeviceID: "d"})
	if err != nil || !rep.OK {
		tb.Fatalf("assign = %+v, %v", rep, err)
	}
	return rep.Node.NodeID
}

func failed(node int64, n int) schemas.OutlineDialCount {
	return schemas.OutlineDialCount{NodeID: node, Failures: n, LastError: "dial tcp 10.0.0.1:10001: connect: connection refused"}
}

func TestPassiveHealthFromGatewayDials(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	a := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	b := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	mv := h.watchMoves(t)

	t.Run("failures below the threshold keep the node", func(t *testing.T) {
		h.reportDials(t, "gw-1", failed(a.ID, 2), schemas.OutlineDialCount{NodeID: b.ID, Successes: 5, LastOK: true})
		waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": "dials", "result": "applied"}, 2)
		if got := h.assigned(t, "eu-1"); got != a.ID {
			t.Fatalf("assigned %d, want node %d still", got, a.ID)
		}
		mv.none(t)
	})
	t.Run("failures from several gateways cross the threshold", func(t *testing.T) {
		h.reportDials(t, "gw-2", failed(a.ID, 1))
		ev := mv.next(t, a.ID)
		if ev.Scope != schemas.ScopeOutlineNode || !strings.Contains(ev.Reason, "3 failed connects") || !strings.Contains(ev.Reason, "connection refused") {
			t.Fatalf("move event = %+v", ev)
		}
		n := h.node(t, a.ID)
		if n.HealthStatus != schemas.HealthUnhealthy || n.DialFailedAt == nil || !strings.Contains(n.HealthReason, "connection refused") {
			t.Fatalf("node = %+v, want unhealthy with the dial error as reason", n)
		}
		if got := h.assigned(t, "eu-1"); got != b.ID {
			t.Fatalf("assigned %d, want the other node %d", got, b.ID)
		}
		waitMetric(t, inst, "httvps_registry_outline_moves_total", map[string]string{"source": "dials"}, 1)
	})
	t.Run("more failures do not move the sessions again", func(t *testing.T) {
		h.reportDials(t, "gw-2", failed(a.ID, 4))
		waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": "dials", "result": "applied"}, 4)
		mv.none(t)
	})
	t.Run("a connect from the failing gateway brings it back", func(t *testing.T) {
		h.reportDials(t, "gw-2", schemas.OutlineDialCount{NodeID: a.ID, Failures: 1, Successes: 1, LastOK: true})
		testkit.Eventually(t, waitTimeout, "node back in assignment", func() bool {
			n := h.node(t, a.ID)
			return n.DialFailedAt == nil && n.HealthStatus == schemas.HealthHealthy
		})
		if got := h.assigned(t, "eu-1"); got != a.ID {
			t.Fatalf("assigned %d, want node %d again", got, a.ID)
		}
	})
	t.Run("an admin healthy clears the failures", func(t *testing.T) {
		h.reportDials(t, "gw-1", failed(a.ID, 3))
		mv.next(t, a.ID)
		h.mustAdmin(t, schemas.ResourceOutlineNodes, schemas.VerbSetStatus,
			schemas.AdminRequest{ID: a.ID, Body: body(t, map[string]any{"status": "healthy"})}, nil)
		if n := h.node(t, a.ID); n.DialFailedAt != nil || n.HealthStatus != schemas.HealthHealthy {
			t.Fatalf("node = %+v after admin healthy", n)
		}
		h.reportDials(t, "gw-1", failed(a.ID, 1))
		waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": "dials", "result": "applied"}, 7)
		if got := h.assigned(t, "eu-1"); got != a.ID {
			t.Fatalf("assigned %d: old failures counted after the admin cleared them", got)
		}
	})
	t.Run("an admin unhealthy moves the sessions", func(t *testing.T) {
		h.mustAdmin(t, schemas.ResourceOutlineNodes, schemas.VerbSetStatus,
			schemas.AdminRequest{ID: b.ID, Body: body(t, map[string]any{"status": "unhealthy"})}, nil)
		mv.next(t, b.ID)
	})
}

func TestDialFailuresExpireWithTheirWindow(t *testing.T) {
	h := newHarness(t)
	cfg := fastConfig()
	cfg.DialWindow = 300 * time.Millisecond
	cfg.SweepInterval = 50 * time.Millisecond
	h.start(t, cfg)
	h.createRegion(t, "eu-1")
	a := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	mv := h.watchMoves(t)
	h.reportDials(t, "gw-1", failed(a.ID, 3))
	mv.next(t, a.ID)
	testkit.Eventually(t, waitTimeout, "the mark ends when no gateway reports failures", func() bool {
		return h.node(t, a.ID).DialFailedAt == nil
	})
	if got := h.assigned(t, "eu-1"); got != a.ID {
		t.Fatalf("assigned %d, want %d", got, a.ID)
	}
}

func TestMalformedDialReportsAreDropped(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	a := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	bad := []struct {
		name    string
		subject string
		data    string
	}{
		{"not JSON", schemas.OutlineDialsSubject("gw-1"), "{"},
		{"gateway differs from subject", schemas.OutlineDialsSubject("gw-1"), `{"gateway_id":"gw-2","nodes":[],"sent_at":"2025-01-01T00:00:00Z"}`},
		{"negative failures", schemas.OutlineDialsSubject("gw-1"), `{"gateway_id":"gw-1","nodes":[{"node_id":1,"failures":-3,"successes":0,"last_ok":false}],"sent_at":"2025-01-01T00:00:00Z"}`},
		{"node id zero", schemas.OutlineDialsSubject("gw-1"), `{"gateway_id":"gw-1","nodes":[{"node_id":0,"failures":3,"successes":0,"last_ok":false}],"sent_at":"2025-01-01T00:00:00Z"}`},
	}
	for _, b := range bad {
		if err := h.nc.Publish(b.subject, []byte(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": "dials", "result": "invalid"}, float64(len(bad)))
	h.reportDials(t, "gw-1", failed(a.ID+100, 3))
	waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": "dials", "result": "unknown_node"}, 1)
	if n := h.node(t, a.ID); n.DialFailedAt != nil {
		t.Fatalf("node marked by malformed reports: %+v", n)
	}
}

func TestAgentHealthAndLiveLoad(t *testing.T) {
	h := newHarness(t)
	h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	a := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	b := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	mv := h.watchMoves(t)

	t.Run("live connections count as load", func(t *testing.T) {
		h.publish(t, schemas.OutlineHeartbeatSubject(a.ID), schemas.OutlineHeartbeat{NodeID: a.ID, HealthStatus: schemas.HealthHealthy,
			ActiveConnections: 40, BytesPerSec: 1e6, ProbeMS: 2.5, SentAt: time.Now().UTC()})
		testkit.Eventually(t, waitTimeout, "load stored", func() bool { return h.node(t, a.ID).ActiveConnections == 40 })
		if got := h.assigned(t, "eu-1"); got != b.ID {
			t.Fatalf("assigned %d, want %d: node %d carries 40 connections", got, b.ID, a.ID)
		}
		h.addSessions(t, b.ID, 6)
		if got := h.assigned(t, "eu-1"); got != a.ID {
			t.Fatalf("assigned %d, want %d: 6/10 sessions outweigh 40 connections (0.5 at 8 per session)", got, a.ID)
		}
	})
	t.Run("an agent reporting unhealthy moves the sessions, with its reason", func(t *testing.T) {
		reason := "no reply through the node within 5s"
		h.publish(t, schemas.OutlineHeartbeatSubject(a.ID), schemas.OutlineHeartbeat{NodeID: a.ID, HealthStatus: schemas.HealthUnhealthy,
			Reason: reason, SentAt: time.Now().UTC()})
		if ev := mv.next(t, a.ID); ev.Reason != reason {
			t.Fatalf("move event = %+v", ev)
		}
		if n := h.waitHealth(t, a.ID, schemas.HealthUnhealthy); n.HealthReason != reason {
			t.Fatalf("node = %+v, want reason %q", n, reason)
		}
		h.publish(t, schemas.OutlineHeartbeatSubject(a.ID), schemas.OutlineHeartbeat{NodeID: a.ID, HealthStatus: schemas.HealthUnhealthy,
			Reason: reason, SentAt: time.Now().UTC()})
		h.publish(t, schemas.OutlineHeartbeatSubject(a.ID), schemas.OutlineHeartbeat{NodeID: a.ID, HealthStatus: schemas.HealthHealthy, SentAt: time.Now().UTC()})
		if n := h.waitHealth(t, a.ID, schemas.HealthHealthy); n.HealthReason != "" {
			t.Fatalf("a healthy node keeps the old reason: %+v", n)
		}
		mv.none(t)
	})
}
