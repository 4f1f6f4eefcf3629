package usageaggregator

import (
	"fmt"

	"github.com/httvps/httvps/shared/jsconsume"
	sharedmetrics "github.com/httvps/httvps/shared/metrics"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	opUsage    = "usage"
	opSessions = "sessions"
	opSweep    = "sweep"
	opAdmin    = "admin"

	publishLimit   = "limit"
	publishRefresh = "refresh"
	publishEnded   = "ended"
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
	restarted     prometheus.Counter
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
	sub := sharedmetrics.Subsystem("aggregator")
	m := &metrics{
		consumer:      consumer,
		rpc:           r,
		applied:       sub.Counter("reports_applied_total", "Usage reports (and ended events) that raised a session's stored totals."),
		duplicates:    sub.Counter("reports_duplicate_total", "Usage reports that changed nothing: duplicates, redeliveries, late or reordered reports."),
		unattributed:  sub.Counter("reports_unattributed_total", "Usage reports left for later because neither the report, the session nor the device names a known user."),
		bytesAdded:    sub.CounterVec("bytes_added_total", "Bytes added to users' period usage, by direction (up, down).", "direction"),
		sessionEvents: sub.CounterVec("session_events_total", "Session events stored, by event (started, ended).", "event"),
		pending:       sub.GaugeVec("consumer_pending", "Messages not yet delivered to the durable consumer, polled periodically.", "consumer"),
		dbErrors:      sub.DBErrors("operation", opUsage, opSessions, opSweep, opBoot, opAdmin),
		limitEvents:   sub.Counter("limit_events_total", "Traffic limit control events published (one per user and month)."),
		swept:         sub.Counter("sessions_gateway_lost_total", "Sessions closed by the sweeper because their gateway stopped sending heartbeats."),
		restarted:     sub.Counter("sessions_gateway_restarted_total", "Sessions closed because their gateway started again with a new boot id."),
		publishErrors: sub.CounterVec("publish_errors_total", "Messages that could not be published, by kind (limit, ended).", "kind"),
	}
	if err := sharedmetrics.Register(reg, m.applied, m.duplicates, m.unattributed, m.bytesAdded, m.sessionEvents,
		m.pending, m.dbErrors, m.limitEvents, m.swept, m.restarted, m.publishErrors); err != nil {
		return nil, fmt.Errorf("usage-aggregator: register metrics: %w", err)
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
