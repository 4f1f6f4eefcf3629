package outlineagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	sharedmetrics "github.com/httvps/httvps/shared/metrics"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

const (
	Name    = "outline-agent"
	Version = "0.1.0"

	maxReason = 255
)

type Deps struct {
	NC         *nats.Conn
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

// Service probes one Outline node every interval and publishes its heartbeat.
type Service struct {
	cfg     Config
	nc      *nats.Conn
	log     zerolog.Logger
	prober  *prober
	load    *loadReader
	metrics agentMetrics

	failedInARow int
}

type agentMetrics struct {
	probes  *prometheus.CounterVec
	probeMS prometheus.Gauge
	healthy prometheus.Gauge
	errors  *prometheus.CounterVec
}

func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.NC == nil {
		return nil, errors.New("outline-agent: a NATS connection is required")
	}
	p, err := newProber(cfg)
	if err != nil {
		return nil, fmt.Errorf("outline-agent: %w", err)
	}
	reg := deps.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	sub := sharedmetrics.Subsystem("agent")
	m := agentMetrics{
		probes:  sub.CounterVec("probes_total", "Probes through the node, by result (ok, failed).", "result"),
		probeMS: sub.Gauge("probe_milliseconds", "Duration of the last successful probe through the node."),
		healthy: sub.Gauge("node_healthy", "1 when the last heartbeat reported the node healthy."),
		errors:  sub.CounterVec("errors_total", "Failed node metrics reads and heartbeat publishes, by op.", "op"),
	}
	if err := sharedmetrics.Register(reg, m.probes, m.probeMS, m.healthy, m.errors); err != nil {
		return nil, fmt.Errorf("outline-agent: metrics: %w", err)
	}
	s := &Service{cfg: cfg, nc: deps.NC, prober: p, metrics: m,
		log: logging.For(deps.Log, Name).With().Int64(logging.FieldNode, cfg.NodeID).Logger()}
	if cfg.NodeMetricsURL != "" {
		s.load = newLoadReader(cfg.NodeMetricsURL, cfg.ProbeTimeout)
	}
	return s, nil
}

// Run sends a heartbeat at once and then every interval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info().Str("node_addr", s.cfg.NodeAddr).Str("probe_target", s.cfg.ProbeTarget).Dur("interval", s.cfg.Interval).
		Bool("node_metrics", s.load != nil).Msg("outline agent started")
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.beat(ctx)
		select {
		case <-ctx.Done():
			_ = s.nc.FlushTimeout(s.cfg.ProbeTimeout)
			s.log.Info().Msg("outline agent stopped")
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout*2)
	defer cancel()
	took, err := s.prober.probe(ctx)
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return
	}
	hb := schemas.OutlineHeartbeat{NodeID: s.cfg.NodeID, HealthStatus: schemas.HealthHealthy,
		IntervalSeconds: s.cfg.Interval.Seconds(), SentAt: time.Now().UTC()}
	if err == nil {
		s.failedInARow = 0
		hb.ProbeMS = float64(took.Microseconds()) / 1000
		s.metrics.probes.WithLabelValues("ok").Inc()
		s.metrics.probeMS.Set(hb.ProbeMS)
	} else {
		s.failedInARow++
		s.metrics.probes.WithLabelValues("failed").Inc()
		s.log.Warn().Err(err).Int(logging.FieldCount, s.failedInARow).Msg("probe through the node failed")
		if s.failedInARow >= s.cfg.Failures {
			hb.HealthStatus = schemas.HealthUnhealthy
			hb.Reason = truncate(err.Error(), maxReason)
		}
	}
	if s.load != nil {
		l, lerr := s.load.read(ctx)
		if lerr != nil {
			s.metrics.errors.WithLabelValues("node_metrics").Inc()
			s.log.Warn().Err(lerr).Msg("read node metrics")
		}
		hb.ActiveConnections, hb.BytesPerSec = l.connections, l.bytesPerSec
	}
	s.publish(hb)
}

func (s *Service) publish(hb schemas.OutlineHeartbeat) {
	subject := schemas.OutlineHeartbeatSubject(hb.NodeID)
	data, err := json.Marshal(hb)
	if err == nil {
		err = s.nc.Publish(subject, data)
	}
	if err != nil {
		s.metrics.errors.WithLabelValues("publish").Inc()
		s.log.Warn().Err(err).Str(logging.FieldSubject, subject).Msg("heartbeat")
		return
	}
	healthy := 0.0
	if hb.HealthStatus == schemas.HealthHealthy {
		healthy = 1
	}
	s.metrics.healthy.Set(healthy)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
