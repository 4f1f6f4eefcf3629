package rpc

import (
	"github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

type Metrics struct {
	Requests *prometheus.CounterVec
	Latency  *prometheus.HistogramVec
}

func NewMetrics(reg prometheus.Registerer, service string) (*Metrics, error) {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "rpc", Name: "requests_total",
			Help:        "Requests served, by endpoint and result code.",
			ConstLabels: prometheus.Labels{"service": service},
		}, []string{"endpoint", "result"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "httvps", Subsystem: "rpc", Name: "request_seconds",
			Help:        "Time to serve a request, by endpoint.",
			ConstLabels: prometheus.Labels{"service": service},
			Buckets:     []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"endpoint"}),
	}
	if err := metrics.Register(reg, m.Requests, m.Latency); err != nil {
		return nil, err
	}
	return m, nil
}
