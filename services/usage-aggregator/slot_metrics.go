package usageaggregator

import (
	"fmt"

	sharedmetrics "github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun/dialect/pgdialect"
)

type slotMetrics struct {
	opened    prometheus.Counter
	closed    prometheus.Counter
	refused   *prometheus.CounterVec
	exhausted prometheus.Counter
	revoked   prometheus.Counter
	purged    prometheus.Counter
}

func newSlotMetrics(reg prometheus.Registerer) (*slotMetrics, error) {
	sub := sharedmetrics.Subsystem("aggregator")
	m := &slotMetrics{
		opened:    sub.Counter("slots_opened_total", "Live-session slots claimed by gateways."),
		closed:    sub.Counter("slots_closed_total", "Live-session slots returned by gateways at session end."),
		refused:   sub.CounterVec("slots_refused_total", "Session opens refused, by code and limit.", "code", "limit"),
		exhausted: sub.Counter("leases_exhausted_total", "Lease requests answered with nothing more: the user's quota is used up."),
		revoked:   sub.Counter("leases_revoked_total", "Lease requests that took back part of a lease: the user's limit fell below what the leases held."),
		purged:    sub.Counter("slots_purged_total", "Expired slots and leases deleted (closed ones and those of lost gateways)."),
	}
	if err := sharedmetrics.Register(reg, m.opened, m.closed, m.refused, m.exhausted, m.revoked, m.purged); err != nil {
		return nil, fmt.Errorf("usage-aggregator: register slot metrics: %w", err)
	}
	return m, nil
}

func pgArray(ids []string) any {
	if ids == nil {
		ids = []string{}
	}
	return pgdialect.Array(ids)
}
