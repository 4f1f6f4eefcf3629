package accounts

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	opValidate = "validate"
	opAdmin    = "admin"
	opSweep    = "sweep"
	opLastSeen = "last_seen"
)

type metrics struct {
	rpc           *rpc.Metrics
	validations   *prometheus.CounterVec
	dbErrors      *prometheus.CounterVec
	events        *prometheus.CounterVec
	eventErrors   prometheus.Counter
	expired       prometheus.Counter
	lastSeenRows  prometheus.Counter
	lastSeenQueue prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	r, err := rpc.NewMetrics(reg, schemas.ServiceAccounts)
	if err != nil {
		return nil, fmt.Errorf("accounts: register rpc metrics: %w", err)
	}
	m := &metrics{
		rpc: r,
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "validations_total",
			Help: "Device validations by result: ok or the refusal code.",
		}, []string{"result"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "db_errors_total",
			Help: "Database errors by operation (validate, admin, sweep, last_seen).",
		}, []string{"operation"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "control_events_total",
			Help: "Control events published on core NATS, by code.",
		}, []string{"code"}),
		eventErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "control_event_errors_total",
			Help: "Control events that could not be published.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "subscriptions_expired_total",
			Help: "Subscriptions marked expired by the sweeper of this process.",
		}),
		lastSeenRows: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "last_seen_flushed_total",
			Help: "Device last_seen_at values written in batches.",
		}),
		lastSeenQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "httvps", Subsystem: "accounts", Name: "last_seen_pending",
			Help: "Devices whose last_seen_at waits for the next batch.",
		}),
	}
	for _, c := range []prometheus.Collector{m.validations, m.dbErrors, m.events, m.eventErrors, m.expired, m.lastSeenRows, m.lastSeenQueue} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("accounts: register metrics: %w", err)
		}
	}
	for _, op := range []string{opValidate, opAdmin, opSweep, opLastSeen} {
		m.dbErrors.WithLabelValues(op)
	}
	return m, nil
}
