package outlineagent_test

import (
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestHeartbeatCarriesLoadFromOutlineSSServer(t *testing.T) {
	node := outlineNode(t, true)
	cfg := agentConfig(node.Addr().String(), probeTarget(t))
	cfg.NodeMetricsURL = node.MetricsURL()
	hbs := runAgent(t, cfg)
	hbs.wait(t, "a healthy heartbeat with the probe time", func(hb schemas.OutlineHeartbeat) bool {
		return hb.NodeID == nodeID && hb.HealthStatus == schemas.HealthHealthy && hb.ProbeMS > 0 && hb.Reason == ""
	})
	openStreams(t, node.Addr().String(), 3, 256<<10)
	hb := hbs.wait(t, "the three open connections and their bytes", func(hb schemas.OutlineHeartbeat) bool {
		return hb.ActiveConnections >= 3 && hb.BytesPerSec > 0
	})
	if hb.IntervalSeconds != cfg.Interval.Seconds() {
		t.Fatalf("interval_seconds = %v, want %v", hb.IntervalSeconds, cfg.Interval.Seconds())
	}
}

func TestUnhealthyNodesCarryAReason(t *testing.T) {
	target := probeTarget(t)
	tests := []struct {
		name     string
		nodeAddr func(t *testing.T) string
		target   string
		reason   []string
	}{
		{"ss-server with another password", func(t *testing.T) string { return ssServer(t, "not-the-agent-password") }, target,
			[]string{"no reply through the node", "check the node's method and password"}},
		{"outline-ss-server with another password", func(t *testing.T) string {
			return outlineNodeWithPassword(t, "not-the-agent-password")
		}, target, []string{"no reply through the node", "check the node's method and password"}},
		{"node not listening", func(t *testing.T) string { return closedAddr(t) }, target,
			[]string{"cannot connect to the node"}},
		{"probe target down", func(t *testing.T) string { return ssServer(t, password) }, closedAddr(t),
			[]string{"does not answer directly either", "HTTVPS_AGENT_PROBE_TARGET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hbs := runAgent(t, agentConfig(tt.nodeAddr(t), tt.target))
			hb := hbs.wait(t, "an unhealthy heartbeat", func(hb schemas.OutlineHeartbeat) bool {
				return hb.HealthStatus == schemas.HealthUnhealthy
			})
			for _, want := range tt.reason {
				if !strings.Contains(hb.Reason, want) {
					t.Errorf("reason %q lacks %q", hb.Reason, want)
				}
			}
		})
	}
}

func TestOneFailedProbeIsNotEnoughByDefault(t *testing.T) {
	cfg := agentConfig(closedAddr(t), probeTarget(t))
	cfg.Failures = 3
	hbs := runAgent(t, cfg)
	hbs.wait(t, "the third failed probe reports unhealthy", func(hb schemas.OutlineHeartbeat) bool {
		return hb.HealthStatus == schemas.HealthUnhealthy
	})
	hbs.mu.Lock()
	defer hbs.mu.Unlock()
	if len(hbs.seen) < 3 || hbs.seen[0].HealthStatus != schemas.HealthHealthy || hbs.seen[1].HealthStatus != schemas.HealthHealthy {
		t.Fatalf("heartbeats = %+v, want two healthy before the unhealthy one", hbs.seen)
	}
}
