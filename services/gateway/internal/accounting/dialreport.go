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

// DialOutcomes is where the dial reports come from (upstream.Pool).
type DialOutcomes interface {
	Changed() <-chan struct{}
	TakeReport() []schemas.OutlineDialCount
}

// DialReporter publishes the gateway's connects to Outline nodes for node-registry's passive
// health: at once (at most every minGap) when a node starts failing or answers again, and the
// plain successes every interval.
type DialReporter struct {
	gatewayID string
	nc        *nats.Conn
	outcomes  DialOutcomes
	minGap    time.Duration
	interval  time.Duration
	m         *metrics.Metrics
	log       zerolog.Logger
}

func NewDialReporter(gatewayID string, nc *nats.Conn, outcomes DialOutcomes, minGap, interval time.Duration, m *metrics.Metrics, log zerolog.Logger) *DialReporter {
	return &DialReporter{gatewayID: gatewayID, nc: nc, outcomes: outcomes, minGap: minGap, interval: interval, m: m, log: log}
}

func (r *DialReporter) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			r.publish()
			return
		case <-r.outcomes.Changed():
		case <-t.C:
		}
		if wait := r.minGap - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		r.publish()
		last = time.Now()
	}
}

func (r *DialReporter) publish() {
	nodes := r.outcomes.TakeReport()
	if len(nodes) == 0 {
		return
	}
	subject := schemas.OutlineDialsSubject(r.gatewayID)
	data, err := json.Marshal(schemas.OutlineDialReport{GatewayID: r.gatewayID, Nodes: nodes, SentAt: time.Now().UTC()})
	if err == nil {
		err = r.nc.Publish(subject, data)
	}
	if err != nil {
		r.m.NATSErrors.WithLabelValues(metrics.OpDialReport).Inc()
		r.log.Warn().Err(err).Str(logging.FieldSubject, subject).Msg("dial report")
	}
}
