package noderegistry_test

import (
	"testing"

	"github.com/httvps/httvps/schemas"
)

// BenchmarkAssignOutline measures one assign-outline request/reply through NATS against a region
// of 20 nodes carrying 1000 active sessions.
func BenchmarkAssignOutline(b *testing.B) {
	h := newHarness(b)
	h.start(b, fastConfig())
	h.createRegion(b, "eu-1")
	for i := range 20 {
		n := h.createNode(b, "eu-1", nodeSpec{maxSessions: 1000})
		h.addSessions(b, n.ID, 50+i)
	}
	req := schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "bench"}
	b.ResetTimer()
	for b.Loop() {
		rep, err := h.assign(b, req)
		if err != nil || !rep.OK {
			b.Fatalf("assign = %+v, %v", rep, err)
		}
	}
}

// BenchmarkSessionEvents measures publishing session started events until all of them are
// counted as active sessions.
func BenchmarkSessionEvents(b *testing.B) {
	h := newHarness(b)
	h.start(b, fastConfig())
	h.createRegion(b, "eu-1")
	node := h.createNode(b, "eu-1", nodeSpec{maxSessions: 1_000_000})
	b.ResetTimer()
	for i := range b.N {
		h.publishStarted(b, started(sessionID(i), node.ID, "gw-bench"))
	}
	h.waitActive(b, node.ID, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
