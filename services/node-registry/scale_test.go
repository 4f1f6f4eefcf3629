package noderegistry_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
)

func sum(tb testing.TB, insts []*instance, name string, labels map[string]string) float64 {
	tb.Helper()
	var total float64
	for _, inst := range insts {
		total += metric(tb, inst.reg, name, labels)
	}
	return total
}

func TestTwoInstancesShareTheDurables(t *testing.T) {
	h := newHarness(t)
	cfg := sweepConfig()
	insts := []*instance{h.start(t, cfg), h.start(t, cfg)}
	h.createRegion(t, "eu-1")
	nodes := []outlineView{
		h.createNode(t, "eu-1", nodeSpec{maxSessions: 1000}),
		h.createNode(t, "eu-1", nodeSpec{maxSessions: 1000}),
	}
	const sessions = 300
	const consumer = schemas.ConsumerSessionsRegistry

	t.Run("every session event is stored once", func(t *testing.T) {
		for i := range sessions {
			h.publishStarted(t, started(sessionID(i), nodes[i%2].ID, "gw-1"))
		}
		h.waitActive(t, nodes[0].ID, sessions/2)
		h.waitActive(t, nodes[1].ID, sessions/2)
		for i := 0; i < sessions; i += 3 {
			h.publishEnded(t, ended(sessionID(i), nodes[i%2].ID, "gw-1"))
		}
		h.waitActive(t, nodes[0].ID, sessions/2-50)
		h.waitActive(t, nodes[1].ID, sessions/2-50)
		waitSum(t, insts, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "ack"}, sessions+sessions/3)
		if naks := sum(t, insts, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "nak"}); naks != 0 {
			t.Fatalf("naks = %v, want 0", naks)
		}
	})

	t.Run("both instances serve assignments", func(t *testing.T) {
		const calls = 40
		for range calls {
			rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
			if err != nil || !rep.OK {
				t.Fatalf("assign = %+v, %v", rep, err)
			}
		}
		ok := map[string]string{"endpoint": "assign-outline", "result": "ok"}
		// the request counter is bumped just after the reply is sent
		waitSum(t, insts, "httvps_rpc_requests_total", ok, calls)
		for i, inst := range insts {
			if metric(t, inst.reg, "httvps_rpc_requests_total", ok) == 0 {
				t.Errorf("instance %d served no assignment", i)
			}
		}
	})

	t.Run("concurrent assignments are all answered", func(t *testing.T) {
		const callers, calls = 32, 5
		var wg sync.WaitGroup
		errs := make(chan error, callers*calls)
		for range callers {
			wg.Go(func() {
				for range calls {
					rep, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
					if err == nil && !rep.OK {
						err = rep.Error
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("assign: %v", err)
		}
	})

	t.Run("each silent gateway is marked offline once", func(t *testing.T) {
		const gateways = 5
		for i := range gateways {
			h.beatGateway(t, gatewayBeat(fmt.Sprintf("gw-%d", i), "eu-1", schemas.GatewayStatusOnline))
		}
		for i := range gateways {
			h.waitGateway(t, fmt.Sprintf("gw-%d", i), schemas.GatewayStatusOffline)
		}
		waitSum(t, insts, "httvps_registry_marked_offline_total", map[string]string{"kind": "gateway"}, gateways)
		testkit.Eventually(t, waitTimeout, "sessions of gw-1 ended", func() bool {
			return h.node(t, nodes[0].ID).ActiveSessions == 0 && h.node(t, nodes[1].ID).ActiveSessions == 0
		})
	})
}

// waitSum waits until the metric summed over the instances equals want; counters are bumped just
// after the work they count becomes visible.
func waitSum(tb testing.TB, insts []*instance, name string, labels map[string]string, want float64) {
	tb.Helper()
	var got float64
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("%s%v = %v", name, labels, want), func() bool {
		got = sum(tb, insts, name, labels)
		return got == want
	})
}

func waitMetric(tb testing.TB, inst *instance, name string, labels map[string]string, want float64) {
	tb.Helper()
	waitSum(tb, []*instance{inst}, name, labels, want)
}

func waitFor(tb testing.TB, inst *instance, name string, labels map[string]string, ok func(float64) bool) {
	tb.Helper()
	testkit.Eventually(tb, waitTimeout, fmt.Sprintf("%s%v", name, labels), func() bool {
		return ok(metric(tb, inst.reg, name, labels))
	})
}
