// Package outlineagent is httvps-outline-agent: it runs beside an Outline (Shadowsocks) node,
// proves the node works end to end with a probe through it, reads its load from
// outline-ss-server's Prometheus metrics where available, and publishes the node's
// heartbeat on httvps.heartbeat.outline.<node_id>.
package outlineagent

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/shadowsocks/go-shadowsocks2/core"
)

const (
	EnvNodeID       = "HTTVPS_AGENT_NODE_ID"
	EnvNodeAddr     = "HTTVPS_AGENT_NODE_ADDR"
	EnvNodeMethod   = "HTTVPS_AGENT_NODE_METHOD"
	EnvNodePassword = "HTTVPS_AGENT_NODE_PASSWORD"
	EnvProbeTarget  = "HTTVPS_AGENT_PROBE_TARGET"
	EnvProbeKind    = "HTTVPS_AGENT_PROBE_KIND"
	EnvProbeTimeout = "HTTVPS_AGENT_PROBE_TIMEOUT"
	EnvFailures     = "HTTVPS_AGENT_FAILURES"
	EnvNodeMetrics  = "HTTVPS_AGENT_NODE_METRICS_URL"
	EnvInterval     = "HTTVPS_HEARTBEAT_INTERVAL"
	EnvMetricsAddr  = "HTTVPS_OUTLINE_AGENT_METRICS_ADDR"
)

// Probe kinds: http sends a HEAD request and waits for any reply; banner sends nothing and
// waits for the target to speak first (SSH, SMTP, NATS ...).
const (
	ProbeHTTP   = "http"
	ProbeBanner = "banner"
)

type Config struct {
	NodeID       int64
	NodeAddr     string
	NodeMethod   string
	NodePassword string
	ProbeTarget  string
	ProbeKind    string
	ProbeTimeout time.Duration
	// Failures is how many probes in a row must fail before the node is reported unhealthy.
	Failures int
	// NodeMetricsURL is outline-ss-server's /metrics; empty when the node has none.
	NodeMetricsURL string
	Interval       time.Duration
	// MetricsAddr is where httvps-outline-agent serves its own /metrics; the agent ignores it.
	MetricsAddr string
}

func DefaultConfig() Config {
	return Config{
		NodeMethod:   "chacha20-ietf-poly1305",
		ProbeKind:    ProbeHTTP,
		ProbeTimeout: 5 * time.Second,
		Failures:     2,
		Interval:     10 * time.Second,
		MetricsAddr:  "127.0.0.1:9106",
	}
}

func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	return Config{
		NodeID:         int64(env.Int(EnvNodeID, 0, 1, 1<<62)),
		NodeAddr:       env.Required(EnvNodeAddr),
		NodeMethod:     env.String(EnvNodeMethod, d.NodeMethod),
		NodePassword:   env.Secret(EnvNodePassword),
		ProbeTarget:    env.Required(EnvProbeTarget),
		ProbeKind:      env.OneOf(EnvProbeKind, d.ProbeKind, ProbeHTTP, ProbeBanner),
		ProbeTimeout:   env.Duration(EnvProbeTimeout, d.ProbeTimeout, 10*time.Millisecond),
		Failures:       env.Int(EnvFailures, d.Failures, 1, 100),
		NodeMetricsURL: env.String(EnvNodeMetrics, ""),
		Interval:       env.Duration(EnvInterval, d.Interval, 10*time.Millisecond),
		MetricsAddr:    env.HostPort(EnvMetricsAddr, d.MetricsAddr),
	}
}

// Validate checks the settings; the error names the variable.
func (c Config) Validate() error {
	hostPort := func(name, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil || v == "" {
			return fmt.Errorf("outline-agent config: %s must be host:port, got %q", name, v)
		}
		return nil
	}
	switch {
	case c.NodeID <= 0:
		return fmt.Errorf("outline-agent config: %s must be the node's positive id in node-registry", EnvNodeID)
	case c.NodePassword == "":
		return fmt.Errorf("outline-agent config: %s must be the node's access key password", EnvNodePassword)
	case !slices.Contains([]string{ProbeHTTP, ProbeBanner}, c.ProbeKind):
		return fmt.Errorf("outline-agent config: %s must be %s or %s", EnvProbeKind, ProbeHTTP, ProbeBanner)
	case c.ProbeTimeout <= 0 || c.Interval <= 0:
		return fmt.Errorf("outline-agent config: %s and %s must be positive", EnvProbeTimeout, EnvInterval)
	case c.ProbeTimeout >= c.Interval:
		return fmt.Errorf("outline-agent config: %s (%s) must be shorter than %s (%s)", EnvProbeTimeout, c.ProbeTimeout, EnvInterval, c.Interval)
	case c.Failures < 1:
		return fmt.Errorf("outline-agent config: %s must be at least 1", EnvFailures)
	}
	if err := errors.Join(hostPort(EnvNodeAddr, c.NodeAddr), hostPort(EnvProbeTarget, c.ProbeTarget)); err != nil {
		return err
	}
	if _, err := core.PickCipher(c.NodeMethod, nil, c.NodePassword); err != nil {
		return fmt.Errorf("outline-agent config: %s %q: %w", EnvNodeMethod, c.NodeMethod, err)
	}
	return nil
}
