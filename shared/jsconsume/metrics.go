package jsconsume

import (
	"time"

	"github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

type Metrics struct {
	Messages  *prometheus.CounterVec
	BatchSize *prometheus.HistogramVec
	BatchTime *prometheus.HistogramVec
}

func NewMetrics(reg prometheus.Registerer, service string) (*Metrics, error) {
	labels := prometheus.Labels{"service": service}
	m := &Metrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "consumer", Name: "messages_total",
			Help: "Messages handled by consumer and outcome (ack, nak, term).", ConstLabels: labels,
		}, []string{"consumer", "outcome"}),
		BatchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "httvps", Subsystem: "consumer", Name: "batch_size",
			Help: "Messages per stored batch.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}, []string{"consumer"}),
		BatchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "httvps", Subsystem: "consumer", Name: "batch_seconds",
			Help: "Time to store one batch.", ConstLabels: labels,
		}, []string{"consumer"}),
	}
	if err := metrics.Register(reg, m.Messages, m.BatchSize, m.BatchTime); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) add(consumer, outcome string, n int) {
	if m != nil {
		m.Messages.WithLabelValues(consumer, outcome).Add(float64(n))
	}
}

func (m *Metrics) observeBatch(consumer string, n int, d time.Duration) {
	if m != nil {
		m.BatchSize.WithLabelValues(consumer).Observe(float64(n))
		m.BatchTime.WithLabelValues(consumer).Observe(d.Seconds())
	}
}
