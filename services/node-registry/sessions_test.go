package noderegistry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
)

func sessionID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func started(id string, node int64, gateway string) schemas.SessionStarted {
	return schemas.SessionStarted{SessionID: id, GatewayID: gateway, Region: "eu-1", UserID: 1, DeviceID: "dev-1",
		OutlineNodeID: node, StartedAt: time.Now().UTC()}
}

func ended(id string, node int64, gateway string) schemas.SessionEnded {
	now := time.Now().UTC()
	return schemas.SessionEnded{SessionID: id, GatewayID: gateway, Region: "eu-1", UserID: 1, DeviceID: "dev-1",
		OutlineNodeID: node, StartedAt: now.Add(-time.Minute), EndedAt: now, Reason: schemas.EndReasonClientClosed}
}

func (h *harness) publishStarted(tb testing.TB, ev schemas.SessionStarted) {
	tb.Helper()
	h.publish(tb, schemas.SessionSubject(schemas.SessionStartedEvent, ev.GatewayID), ev)
}

func (h *harness) publishEnded(tb testing.TB, ev schemas.SessionEnded) {
	tb.Helper()
	h.publish(tb, schemas.SessionSubject(schemas.SessionEndedEvent, ev.GatewayID), ev)
}

func (h *harness) waitActive(tb testing.TB, nodeID int64, want int) {
	tb.Helper()
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("node %d has %d active sessions", nodeID, want), func() bool {
		return h.node(tb, nodeID).ActiveSessions == want
	})
}

// waitConsumed waits until the registry's session consumer has acked or terminated n more
// messages than before.
func waitConsumed(tb testing.TB, inst *instance, consumer string, before, n float64) {
	tb.Helper()
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("%s handled %v messages", consumer, n), func() bool {
		return consumed(tb, inst, consumer) >= before+n
	})
}

func consumed(tb testing.TB, inst *instance, consumer string) float64 {
	return metric(tb, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "ack"}) +
		metric(tb, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "term"})
}

func TestSessionEventsChangeActiveSessions(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	node := h.createNode(t, "eu-1", nodeSpec{maxSessions: 2})
	other := h.createNode(t, "eu-1", nodeSpec{maxSessions: 2})
	const consumer = schemas.ConsumerSessionsRegistry

	t.Run("started counts", func(t *testing.T) {
		h.publishStarted(t, started(sessionID(1), node.ID, "gw-1"))
		h.publishStarted(t, started(sessionID(2), node.ID, "gw-1"))
		h.waitActive(t, node.ID, 2)
	})
	t.Run("full node is no longer assigned", func(t *testing.T) {
		rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
		if err != nil || !rep.OK || rep.Node.NodeID != other.ID {
			t.Fatalf("assign = %+v, %v; want node %d", rep, err, other.ID)
		}
	})
	t.Run("redelivered started changes nothing", func(t *testing.T) {
		before := consumed(t, inst, consumer)
		h.publishStarted(t, started(sessionID(1), node.ID, "gw-1"))
		waitConsumed(t, inst, consumer, before, 1)
		if got := h.node(t, node.ID).ActiveSessions; got != 2 {
			t.Fatalf("active = %d, want 2", got)
		}
	})
	t.Run("ended uncounts", func(t *testing.T) {
		h.publishEnded(t, ended(sessionID(1), node.ID, "gw-1"))
		h.waitActive(t, node.ID, 1)
	})
	t.Run("redelivered ended and started after it change nothing", func(t *testing.T) {
		before := consumed(t, inst, consumer)
		h.publishEnded(t, ended(sessionID(1), node.ID, "gw-1"))
		h.publishStarted(t, started(sessionID(1), node.ID, "gw-1"))
		waitConsumed(t, inst, consumer, before, 2)
		if got := h.node(t, node.ID).ActiveSessions; got != 1 {
			t.Fatalf("active = %d, want 1", got)
		}
	})
	t.Run("ended before started leaves no phantom", func(t *testing.T) {
		before := consumed(t, inst, consumer)
		h.publishEnded(t, ended(sessionID(3), node.ID, "gw-1"))
		h.publishStarted(t, started(sessionID(3), node.ID, "gw-1"))
		waitConsumed(t, inst, consumer, before, 2)
		if got := h.node(t, node.ID).ActiveSessions; got != 1 {
			t.Fatalf("active = %d, want 1", got)
		}
	})
	t.Run("ended with another node id still ends the session", func(t *testing.T) {
		h.publishStarted(t, started(sessionID(4), other.ID, "gw-1"))
		h.waitActive(t, other.ID, 1)
		h.publishEnded(t, ended(sessionID(4), 0, "gw-1"))
		h.waitActive(t, other.ID, 0)
	})

	bad := []struct {
		name    string
		subject string
		data    []byte
	}{
		{"not json", schemas.SessionSubject(schemas.SessionStartedEvent, "gw-1"), []byte("{")},
		{"session id not a uuid", schemas.SessionSubject(schemas.SessionStartedEvent, "gw-1"), []byte(`{"session_id":"s-1","outline_node_id":1}`)},
		{"negative node", schemas.SessionSubject(schemas.SessionEndedEvent, "gw-1"), []byte(`{"session_id":"` + sessionID(9) + `","outline_node_id":-1}`)},
		{"wrong type", schemas.SessionSubject(schemas.SessionEndedEvent, "gw-1"), []byte(`{"session_id":"` + sessionID(9) + `","outline_node_id":"one"}`)},
	}
	for _, tc := range bad {
		t.Run("malformed "+tc.name+" is terminated", func(t *testing.T) {
			terms := metric(t, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "term"})
			h.publish(t, tc.subject, tc.data)
			testkit.Eventually(t, waitTimeout, "terminated", func() bool {
				return metric(t, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "term"}) == terms+1
			})
		})
	}
	t.Run("unknown node is ignored and later events still count", func(t *testing.T) {
		h.publishStarted(t, started(sessionID(5), 999999, "gw-1"))
		h.publishStarted(t, started(sessionID(6), node.ID, "gw-1"))
		h.waitActive(t, node.ID, 2)
		waitMetric(t, inst, "httvps_registry_events_total", map[string]string{"consumer": consumer, "result": "unknown_node"}, 1)
		if got := metric(t, inst.reg, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "nak"}); got != 0 {
			t.Fatalf("naks = %v, want 0", got)
		}
	})
}
