package gateway_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
)

func TestNodeResetBeforeReplyIsRetriedOnAnotherNode(t *testing.T) {
	for _, kind := range []nodeKind{outlineNode, libevNode} {
		t.Run(kind.String(), func(t *testing.T) {
			w := newWorld(t, kind, nil)
			reset := testenv.ResetNode(t, 2, testenv.Region)
			w.cp.SetNodes(testenv.Region, reset, w.node)
			c := w.connect(t, "binary", "flow_control")
			stillWorks(t, c, testenv.EchoTarget(t).Addr)
			calls := w.cp.AssignCalls()
			if last := calls[len(calls)-1]; !slices.Equal(last.ExcludeNodeIDs, []int64{reset.NodeID}) {
				t.Fatalf("reassignment = %+v, want node %d excluded", last, reset.NodeID)
			}
			if n := testutilGauge(t, w, "httvps_gateway_node_failovers_total"); n != 1 {
				t.Fatalf("failovers = %v, want 1", n)
			}
		})
	}
}

func TestMoveEventSendsNewStreamsToAnotherNode(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	second := testenv.OutlineServer(t, 2, testenv.Region)
	w.cp.SetNodes(testenv.Region, w.node, second)
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	stillWorks(t, c, echo.Addr)
	before := len(w.cp.AssignCalls())

	nc := w.nats.Conn(t)
	ev := schemas.ControlEvent{Scope: schemas.ScopeOutlineNode, ID: "1", What: schemas.ControlMove,
		Code: schemas.CodeUpstreamUnreachable, Reason: "test", IssuedAt: time.Now().UTC()}
	data, _ := json.Marshal(ev)
	if err := nc.Publish(schemas.OutlineMoveSubject(w.node.NodeID), data); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	testkitEventually(t, "a new stream moves the session off node 1", func() bool {
		stillWorks(t, c, echo.Addr)
		calls := w.cp.AssignCalls()
		return len(calls) > before && slices.Contains(calls[len(calls)-1].ExcludeNodeIDs, w.node.NodeID)
	})
	if sessions, _ := w.gw.Svc.Counts(); sessions != 1 {
		t.Fatalf("sessions = %d: a move event must not end the session", sessions)
	}
}

func TestDialOutcomesAreReported(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	dead := testenv.DeadNode(t, 2, testenv.Region)
	w.cp.SetNodes(testenv.Region, dead, w.node)
	reports := make(chan schemas.OutlineDialReport, 16)
	sub, err := w.nats.Conn(t).Subscribe(schemas.SubjectOutlineDialsAll, func(m *nats.Msg) {
		var r schemas.OutlineDialReport
		if json.Unmarshal(m.Data, &r) == nil && m.Subject == schemas.OutlineDialsSubject(r.GatewayID) {
			reports <- r
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	c := w.connect(t)
	stillWorks(t, c, testenv.EchoTarget(t).Addr)
	var failures, successes int
	testkit.Eventually(t, 10*time.Second, "the dead node's failure and the live node's success reported", func() bool {
		select {
		case r := <-reports:
			for _, n := range r.Nodes {
				switch {
				case n.NodeID == dead.NodeID && !n.LastOK && n.LastError != "":
					failures += n.Failures
				case n.NodeID == w.node.NodeID && n.LastOK:
					successes += n.Successes
				}
			}
		default:
		}
		return failures >= 1 && successes >= 1
	})
}
