// Package metrics builds and registers the Prometheus collectors of HTTVPS services.
package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

const Namespace = "httvps"

func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Subsystem builds the collectors named httvps_<subsystem>_<name>.
type Subsystem string

func (s Subsystem) Counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: string(s), Name: name, Help: help})
}

func (s Subsystem) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: string(s), Name: name, Help: help}, labels)
}

func (s Subsystem) Gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: string(s), Name: name, Help: help})
}

func (s Subsystem) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: string(s), Name: name, Help: help}, labels)
}

// DBErrors counts database errors by operation (label label); the listed operations start at 0.
func (s Subsystem) DBErrors(label string, ops ...string) *prometheus.CounterVec {
	help := "Database errors by operation."
	if len(ops) > 0 {
		help = "Database errors by operation (" + strings.Join(ops, ", ") + ")."
	}
	c := s.CounterVec("db_errors_total", help, label)
	for _, op := range ops {
		c.WithLabelValues(op)
	}
	return c
}
