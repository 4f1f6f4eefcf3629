package httvps

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/httvps/httvps/services/httvps/system"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
)

// startAgent runs the outline agent of the demo node: it probes the node through Shadowsocks
// to the demo page and reports the node's load from its metrics.
func (d *demo) startAgent(ctx context.Context, s *system.System, node system.Node, interval time.Duration) error {
	id, err := s.Admin().EnsureNode(ctx, node)
	if err != nil {
		return fmt.Errorf("outline agent: demo node: %w", err)
	}
	page, err := url.Parse(d.page.URL())
	if err != nil {
		return fmt.Errorf("outline agent: %w", err)
	}
	cfg := outlineagent.DefaultConfig()
	cfg.NodeID, cfg.NodeAddr, cfg.NodeMethod, cfg.NodePassword = id, d.outline.Addr().String(), d.cfg.OutlineMethod, d.cfg.OutlinePassword
	cfg.ProbeTarget, cfg.NodeMetricsURL, cfg.Interval = page.Host, d.outline.MetricsURL(), interval
	cfg.ProbeTimeout = min(cfg.ProbeTimeout, interval/2)
	if _, err := s.StartOutlineAgent(ctx, cfg); err != nil {
		return fmt.Errorf("outline agent: %w", err)
	}
	return nil
}
