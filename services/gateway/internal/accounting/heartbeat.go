package accounting

import (
	"context"
	"encoding/json"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Load is what a heartbeat reports about the sessions.
type Load interface {
	Counts() (sessions, streams int)
}

type HeartbeatConfig struct {
	GatewayID  string
	BootID     string
	Region     string
	PublicIP   string
	InternalIP string
	Version    string
	Interval   time.Duration
}

// Heartbeat publishes the gateway's load on its subject of the HEARTBEATS stream.
type Heartbeat struct {
	cfg    HeartbeatConfig
	nc     *nats.Conn
	load   Load
	totals *Totals
	m      *metrics.Metrics
	log    zerolog.Logger

	lastAt         time.Time
	lastUp, lastDn int64
}

func NewHeartbeat(cfg HeartbeatConfig, nc *nats.Conn, load Load, totals *Totals, m *metrics.Metrics, log zerolog.Logger) *Heartbeat {
	return &Heartbeat{cfg: cfg, nc: nc, load: load, totals: totals, m: m, log: log, lastAt: time.Now()}
}

// Run sends a heartbeat at once and then every interval until ctx ends.
func (h *Heartbeat) Run(ctx context.Context) {
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	h.Send(schemas.GatewayStatusOnline)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Send(schemas.GatewayStatusOnline)
		}
	}
}

// Send publishes one heartbeat with the given status. Heartbeats are not kept while NATS is
// away: only the latest matters.
func (h *Heartbeat) Send(status string) {
	if !h.nc.IsConnected() {
		return
	}
	now := time.Now()
	up, down := h.totals.Up.Load(), h.totals.Down.Load()
	elapsed := now.Sub(h.lastAt).Seconds()
	sessions, streams := h.load.Counts()
	hb := schemas.GatewayHeartbeat{
		GatewayID:       h.cfg.GatewayID,
		BootID:          h.cfg.BootID,
		Region:          h.cfg.Region,
		PublicIP:        h.cfg.PublicIP,
		InternalIP:      h.cfg.InternalIP,
		Version:         h.cfg.Version,
		Status:          status,
		Sessions:        sessions,
		Streams:         streams,
		IntervalSeconds: h.cfg.Interval.Seconds(),
		SentAt:          now.UTC(),
	}
	if elapsed > 0 {
		hb.BytesUpPerSec = float64(up-h.lastUp) / elapsed
		hb.BytesDownPerSec = float64(down-h.lastDn) / elapsed
	}
	h.lastAt, h.lastUp, h.lastDn = now, up, down
	data, err := json.Marshal(hb)
	if err == nil {
		err = h.nc.Publish(schemas.GatewayHeartbeatSubject(h.cfg.GatewayID), data)
	}
	if err != nil {
		h.m.NATSErrors.WithLabelValues(metrics.OpHeartbeat).Inc()
		h.log.Warn().Err(err).Str(logging.FieldSubject, schemas.GatewayHeartbeatSubject(h.cfg.GatewayID)).Msg("heartbeat")
	}
}
