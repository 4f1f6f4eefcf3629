package accounts

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
	sharedmetrics "github.com/httvps/httvps/shared/metrics"
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
	sub := sharedmetrics.Subsystem("accounts")
	m := &metrics{
		rpc:           r,
		validations:   sub.CounterVec("validations_total", "Device validations by result: ok or the refusal code.", "result"),
		dbErrors:      sub.DBErrors("operation", opValidate, opAdmin, opSweep, opLastSeen),
		events:        sub.CounterVec("control_events_total", "Control events published on core NATS, by code.", "code"),
		eventErrors:   sub.Counter("control_event_errors_total", "Control events that could not be published."),
		expired:       sub.Counter("subscriptions_expired_total", "Subscriptions marked expired by the sweeper of this process."),
		lastSeenRows:  sub.Counter("last_seen_flushed_total", "Device last_seen_at values written in batches."),
		lastSeenQueue: sub.Gauge("last_seen_pending", "Devices whose last_seen_at waits for the next batch."),
	}
	if err := sharedmetrics.Register(reg, m.validations, m.dbErrors, m.events, m.eventErrors, m.expired, m.lastSeenRows, m.lastSeenQueue); err != nil {
		return nil, fmt.Errorf("accounts: register metrics: %w", err)
	}
	return m, nil
}
