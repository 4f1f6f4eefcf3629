package httvps

import (
	"fmt"
	"net/url"
	"time"

	outlineagent "github.com/httvps/httvps/services/outline-agent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// agent is the outline agent of the demo node: it probes the node through Shadowsocks to the
// demo page and reports the node's load from its metrics.
func (d *demo) agent(in *infra, interval time.Duration, log zerolog.Logger, reg prometheus.Registerer) (*outlineagent.Service, error) {
	page, err := url.Parse(d.page.URL())
	if err != nil {
		return nil, fmt.Errorf("outline agent: %w", err)
	}
	cfg := outlineagent.DefaultConfig()
	cfg.NodeID, cfg.NodeAddr, cfg.NodeMethod, cfg.NodePassword = d.seed.NodeID, d.outline.Addr().String(), d.cfg.OutlineMethod, d.cfg.OutlinePassword
	cfg.ProbeTarget, cfg.NodeMetricsURL, cfg.Interval = page.Host, d.outline.MetricsURL(), interval
	cfg.ProbeTimeout = min(cfg.ProbeTimeout, interval/2)
	agent, err := outlineagent.New(cfg, outlineagent.Deps{NC: in.nc, Log: log, Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("outline agent: %w", err)
	}
	return agent, nil
}
