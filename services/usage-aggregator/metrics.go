package usageaggregator

import (
	"fmt"

	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	opUsage    = "usage"
	opSessions = "sessions"
	opSweep    = "sweep"
	opAdmin    = "admin"

	publishLimit = "limit"
	publishEnded = "ended"
)

type metrics struct {
	consumer      *jsconsume.Metrics
	rpc           *rpc.Metrics
	applied       prometheus.Counter
	duplicates    prometheus.Counter
	unattributed  prometheus.Counter
	bytesAdded    *prometheus.CounterVec
	sessionEvents *prometheus.CounterVec
	pending       *prometheus.GaugeVec
	dbErrors      *prometheus.CounterVec
	limitEvents   prometheus.Counter
	swept         prometheus.Counter
	publishErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	consumer, err := jsconsume.NewMetrics(reg, ServiceName)
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: register consumer metrics: %w", err)
	}
	r, err := rpc.NewMetrics(reg, ServiceName)
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: register rpc metrics: %w", err)
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "httvps", Subsystem: "aggregator", Name: name, Help: help})
	}
	m := &metrics{
		consumer:     consumer,
		rpc:          r,
		applied:      counter("reports_applied_total", "Usage reports (and ended events) that raised a session's stored totals."),
		duplicates:   counter("reports_duplicate_total", "Usage reports that changed nothing: duplicates, redeliveries, late or reordered reports."),
		unattributed: counter("reports_unattributed_total", "Usage reports left for later because neither the report, the session nor the device names a known user."),
		bytesAdded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "aggregator", Name: "bytes_added_total",
			Help: "Bytes added to users' period usage, by direction (up, down).",
		}, []string{"direction"}),
		sessionEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "aggregator", Name: "session_events_total",
			Help: "Session events stored, by event (started, ended).",
		}, []string{"event"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "httvps", Subsystem: "aggregator", Name: "consumer_pending",
			Help: "Messages not yet delivered to the durable consumer, polled periodically.",
		}, []string{"consumer"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "aggregator", Name: "db_errors_total",
			Help: "Database errors by operation (usage, sessions, sweep, admin).",
		}, []string{"operation"}),
		limitEvents: counter("limit_events_total", "Traffic limit control events published (one per user and month)."),
		swept:       counter("sessions_gateway_lost_total", "Sessions closed by the sweeper because their gateway stopped sending heartbeats."),
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "aggregator", Name: "publish_errors_total",
			Help: "Messages that could not be published, by kind (limit, ended).",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.applied, m.duplicates, m.unattributed, m.bytesAdded, m.sessionEvents,
		m.pending, m.dbErrors, m.limitEvents, m.swept, m.publishErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("usage-aggregator: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) record(res applyResult) {
	m.applied.Add(float64(res.Applied))
	m.duplicates.Add(float64(res.Duplicates))
	m.unattributed.Add(float64(res.Unattributed))
	m.bytesAdded.WithLabelValues("up").Add(float64(res.AddedUp))
	m.bytesAdded.WithLabelValues("down").Add(float64(res.AddedDown))
}
