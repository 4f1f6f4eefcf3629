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
	sub := metrics.Subsystem("gateway_control")
	m := &controlMetrics{
		events:      sub.CounterVec("events_total", "Control events read from the CONTROL stream by outcome (ended, no_session, unreadable).", "outcome"),
		validations: sub.CounterVec("revalidations_total", "Re-validations of live sessions by outcome (valid, ended, unavailable).", "outcome"),
		ended:       sub.CounterVec("sessions_ended_total", "Sessions ended by the control plane, by source (event, revalidation).", "source"),
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
