package noderegistry_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/testkit"
)

func sweepConfig() noderegistry.Config {
	cfg := fastConfig()
	cfg.HeartbeatInterval = 150 * time.Millisecond
	// 750 ms without a heartbeat: wide enough for a loaded machine to deliver one beating every 50 ms
	cfg.MissedHeartbeats = 5
	cfg.SweepInterval = 50 * time.Millisecond
	return cfg
}

func gatewayBeat(name, region, status string) schemas.GatewayHeartbeat {
	return schemas.GatewayHeartbeat{GatewayID: name, Region: region, PublicIP: "203.0.113.7", InternalIP: "10.1.0.7",
		Version: "1.2.3", Status: status, Sessions: 4, Streams: 9, BytesUpPerSec: 100, BytesDownPerSec: 2000,
		IntervalSeconds: 0.15, SentAt: time.Now().UTC()}
}

func (h *harness) beatGateway(tb testing.TB, hb schemas.GatewayHeartbeat) {
	tb.Helper()
	if err := h.tryBeatGateway(tb, hb)(); err != nil {
		tb.Fatal(err)
	}
}

func (h *harness) beatOutline(tb testing.TB, node int64, health string) {
	tb.Helper()
	if err := h.tryBeatOutline(tb, node, health)(); err != nil {
		tb.Fatal(err)
	}
}

// tryBeatGateway returns a publisher for keepBeating: it may run outside the test goroutine.
func (h *harness) tryBeatGateway(tb testing.TB, hb schemas.GatewayHeartbeat) func() error {
	return func() error {
		return h.tryPublish(tb, schemas.GatewayHeartbeatSubject(hb.GatewayID), hb)
	}
}

func (h *harness) tryBeatOutline(tb testing.TB, node int64, health string) func() error {
	return func() error {
		hb := schemas.OutlineHeartbeat{NodeID: node, HealthStatus: health, SentAt: time.Now().UTC()}
		return h.tryPublish(tb, schemas.OutlineHeartbeatSubject(node), hb)
	}
}

func (h *harness) waitGateway(tb testing.TB, name, status string) gatewayView {
	tb.Helper()
	var g gatewayView
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("gateway %s is %s", name, status), func() bool {
		var ok bool
		g, ok = h.gateway(tb, name)
		return ok && g.Status == status
	})
	return g
}

func (h *harness) waitHealth(tb testing.TB, node int64, health string) outlineView {
	tb.Helper()
	var n outlineView
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("outline node %d is %s", node, health), func() bool {
		n = h.node(tb, node)
		return n.HealthStatus == health
	})
	return n
}

// keepBeating publishes a heartbeat every interval until the returned stop is called.
func keepBeating(interval time.Duration, beat func() error) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if err := beat(); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func TestGatewayHeartbeatsAndSweeper(t *testing.T) {
	h := newHarness(t)
	cfg := sweepConfig()
	inst := h.start(t, cfg)
	h.createRegion(t, "eu-1")
	node := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})

	stop := keepBeating(cfg.HeartbeatInterval/3, h.tryBeatGateway(t, gatewayBeat("gw-1", "eu-1", schemas.GatewayStatusOnline)))
	g := h.waitGateway(t, "gw-1", schemas.GatewayStatusOnline)
	t.Run("heartbeat creates the row", func(t *testing.T) {
		if g.Region == nil || *g.Region != "eu-1" || g.Sessions != 4 || g.Streams != 9 || g.Version != "1.2.3" || g.LastHeartbeatAt == nil {
			t.Fatalf("gateway = %+v", g)
		}
	})
	t.Run("beating gateway stays online across sweeps", func(t *testing.T) {
		passSweeps(t, inst, 3*int(cfg.OfflineAfter()/cfg.SweepInterval))
		if g, _ := h.gateway(t, "gw-1"); g.Status != schemas.GatewayStatusOnline {
			t.Fatalf("gateway went %s while beating", g.Status)
		}
		if got := metric(t, inst.reg, "httvps_registry_marked_offline_total", nil); got != 0 {
			t.Fatalf("marked offline = %v while beating", got)
		}
	})
	h.publishStarted(t, started(sessionID(1), node.ID, "gw-1"))
	h.waitActive(t, node.ID, 1)

	stop()
	t.Run("silent gateway goes offline and loses its sessions", func(t *testing.T) {
		h.waitGateway(t, "gw-1", schemas.GatewayStatusOffline)
		h.waitActive(t, node.ID, 0)
		waitMetric(t, inst, "httvps_registry_marked_offline_total", map[string]string{"kind": "gateway"}, 1)
		waitMetric(t, inst, "httvps_registry_nodes", map[string]string{"kind": "gateway", "status": "offline"}, 1)
	})
	t.Run("heartbeats resume and the gateway is online again", func(t *testing.T) {
		stop := keepBeating(cfg.HeartbeatInterval/3, h.tryBeatGateway(t, gatewayBeat("gw-1", "eu-1", schemas.GatewayStatusDraining)))
		defer stop()
		h.waitGateway(t, "gw-1", schemas.GatewayStatusDraining)
	})
	t.Run("gateway without heartbeats keeps its admin status", func(t *testing.T) {
		h.mustAdmin(t, schemas.ResourceGatewayNodes, schemas.VerbCreate, schemas.AdminRequest{
			Body: body(t, map[string]any{"name": "gw-quiet", "status": "online"})}, nil)
		passSweeps(t, inst, 3)
		if g, _ := h.gateway(t, "gw-quiet"); g.Status != schemas.GatewayStatusOnline {
			t.Fatalf("quiet gateway = %s, want online", g.Status)
		}
	})
}

// passSweeps waits until the sweeper has completed n more sweeps.
func passSweeps(tb testing.TB, inst *instance, n int) {
	tb.Helper()
	before := metric(tb, inst.reg, "httvps_registry_sweeps_total", nil)
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("%d sweeps", n), func() bool {
		return metric(tb, inst.reg, "httvps_registry_sweeps_total", nil) >= before+float64(n)
	})
}

func TestOutlineHeartbeatsAndSweeper(t *testing.T) {
	h := newHarness(t)
	cfg := sweepConfig()
	inst := h.start(t, cfg)
	h.createRegion(t, "eu-1")
	node := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10, health: schemas.HealthUnhealthy})
	quiet := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10, health: schemas.HealthHealthy})

	stop := keepBeating(cfg.HeartbeatInterval/3, h.tryBeatOutline(t, node.ID, schemas.HealthHealthy))
	t.Run("heartbeat sets health", func(t *testing.T) {
		n := h.waitHealth(t, node.ID, schemas.HealthHealthy)
		if n.LastHeartbeatAt == nil {
			t.Fatal("last_heartbeat_at not set")
		}
	})
	stop()
	t.Run("silent node goes offline and is not assigned", func(t *testing.T) {
		h.waitHealth(t, node.ID, schemas.HealthOffline)
		rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
		if err != nil || !rep.OK || rep.Node.NodeID != quiet.ID {
			t.Fatalf("assign = %+v, %v; want the quiet node %d", rep, err, quiet.ID)
		}
		waitMetric(t, inst, "httvps_registry_marked_offline_total", map[string]string{"kind": "outline"}, 1)
	})
	t.Run("node without heartbeats keeps its admin health", func(t *testing.T) {
		if got := h.node(t, quiet.ID).HealthStatus; got != schemas.HealthHealthy {
			t.Fatalf("quiet node = %s, want healthy", got)
		}
	})
	t.Run("heartbeats resume and the node is healthy again", func(t *testing.T) {
		stop := keepBeating(cfg.HeartbeatInterval/3, h.tryBeatOutline(t, node.ID, schemas.HealthHealthy))
		defer stop()
		h.waitHealth(t, node.ID, schemas.HealthHealthy)
	})
	t.Run("a node reporting itself unhealthy is not assigned", func(t *testing.T) {
		stop := keepBeating(cfg.HeartbeatInterval/3, h.tryBeatOutline(t, quiet.ID, schemas.HealthUnhealthy))
		defer stop()
		h.waitHealth(t, quiet.ID, schemas.HealthUnhealthy)
	})
}

func TestMalformedHeartbeatsAreTerminated(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	node := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10, health: schemas.HealthUnhealthy})
	good := gatewayBeat("gw-bad", "eu-1", schemas.GatewayStatusOnline)
	withGW := func(edit func(*schemas.GatewayHeartbeat)) []byte {
		hb := good
		edit(&hb)
		raw, _ := json.Marshal(hb)
		return raw
	}
	cases := []struct {
		name    string
		subject string
		data    []byte
	}{
		{"not json", schemas.GatewayHeartbeatSubject("gw-bad"), []byte("not json")},
		{"gateway id differs from subject", schemas.GatewayHeartbeatSubject("gw-bad"), withGW(func(hb *schemas.GatewayHeartbeat) { hb.GatewayID = "gw-other" })},
		{"gateway id not a name", schemas.GatewayHeartbeatSubject("gw:bad"), withGW(func(hb *schemas.GatewayHeartbeat) { hb.GatewayID = "gw:bad" })},
		{"unknown status", schemas.GatewayHeartbeatSubject("gw-bad"), withGW(func(hb *schemas.GatewayHeartbeat) { hb.Status = "sleeping" })},
		{"negative sessions", schemas.GatewayHeartbeatSubject("gw-bad"), withGW(func(hb *schemas.GatewayHeartbeat) { hb.Sessions = -1 })},
		{"negative rate", schemas.GatewayHeartbeatSubject("gw-bad"), withGW(func(hb *schemas.GatewayHeartbeat) { hb.BytesUpPerSec = -5 })},
		{"outline node id differs from subject", schemas.OutlineHeartbeatSubject(node.ID), []byte(fmt.Sprintf(`{"node_id":%d,"health_status":"healthy"}`, node.ID+1))},
		{"outline unknown health", schemas.OutlineHeartbeatSubject(node.ID), []byte(fmt.Sprintf(`{"node_id":%d,"health_status":"great"}`, node.ID))},
		{"outline node id not a number", schemas.OutlineHeartbeatSubject(node.ID), []byte(`{"node_id":"one","health_status":"healthy"}`)},
	}
	const consumer = schemas.ConsumerHeartbeatsRegistry
	term := map[string]string{"consumer": consumer, "outcome": "term"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := metric(t, inst.reg, "httvps_consumer_messages_total", term)
			h.publish(t, tc.subject, tc.data)
			testkit.Eventually(t, waitTimeout, "terminated", func() bool {
				return metric(t, inst.reg, "httvps_consumer_messages_total", term) == before+1
			})
		})
	}
	t.Run("later heartbeats are stored", func(t *testing.T) {
		h.beatGateway(t, good)
		h.beatOutline(t, node.ID, schemas.HealthHealthy)
		h.waitGateway(t, "gw-bad", schemas.GatewayStatusOnline)
		h.waitHealth(t, node.ID, schemas.HealthHealthy)
	})
	t.Run("nothing was stored from the malformed ones", func(t *testing.T) {
		if _, ok := h.gateway(t, "gw-other"); ok {
			t.Fatal("gateway gw-other was created from a malformed heartbeat")
		}
		if got := metric(t, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "nak"}); got != 0 {
			t.Fatalf("naks = %v, want 0", got)
		}
	})
	t.Run("heartbeat of an unknown outline node is counted and dropped", func(t *testing.T) {
		h.beatOutline(t, 987654, schemas.HealthHealthy)
		waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": consumer, "result": "unknown_node"}, 1)
	})
}
