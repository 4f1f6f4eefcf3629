package control

import (
	"github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	outcomeEnded       = "ended"
	outcomeNoSession   = "no_session"
	outcomeUnreadable  = "unreadable"
	outcomeValid       = "valid"
	outcomeUnavailable = "unavailable"

	sourceEvent      = "event"
	sourceRevalidate = "revalidation"
)

type controlMetrics struct {
	events      *prometheus.CounterVec
	validations *prometheus.CounterVec
	ended       *prometheus.CounterVec
}

func newControlMetrics(reg prometheus.Registerer) (*controlMetrics, error) {
	m := &controlMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps_gateway", Subsystem: "control", Name: "events_total",
			Help: "Control events read from the CONTROL stream by outcome (ended, no_session, unreadable).",
		}, []string{"outcome"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps_gateway", Subsystem: "control", Name: "revalidations_total",
			Help: "Re-validations of live sessions by outcome (valid, ended, unavailable).",
		}, []string{"outcome"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps_gateway", Subsystem: "control", Name: "sessions_ended_total",
			Help: "Sessions ended by the control plane, by source (event, revalidation).",
		}, []string{"source"}),
	}
	for _, o := range []string{outcomeEnded, outcomeNoSession, outcomeUnreadable} {
		m.events.WithLabelValues(o)
	}
	for _, o := range []string{outcomeValid, outcomeEnded, outcomeUnavailable} {
		m.validations.WithLabelValues(o)
	}
	for _, s := range []string{sourceEvent, sourceRevalidate} {
		m.ended.WithLabelValues(s)
	}
	if reg == nil {
		return m, nil
	}
	if err := metrics.Register(reg, m.events, m.validations, m.ended); err != nil {
		return nil, err
	}
	return m, nil
}
