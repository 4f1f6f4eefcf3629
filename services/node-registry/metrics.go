package noderegistry

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	kindGateway = "gateway"
	kindOutline = "outline"
)

type metrics struct {
	rpc         *rpc.Metrics
	consumer    *jsconsume.Metrics
	nodes       *prometheus.GaugeVec
	offline     *prometheus.CounterVec
	sweeps      prometheus.Counter
	events      *prometheus.CounterVec
	assignments *prometheus.CounterVec
	dbErrors    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	rm, err := rpc.NewMetrics(reg, schemas.ServiceNodeRegistry)
	if err != nil {
		return nil, fmt.Errorf("rpc metrics: %w", err)
	}
	cm, err := jsconsume.NewMetrics(reg, schemas.ServiceNodeRegistry)
	if err != nil {
		return nil, fmt.Errorf("consumer metrics: %w", err)
	}
	m := &metrics{
		rpc:      rm,
		consumer: cm,
		nodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "nodes",
			Help: "Nodes by kind (gateway, outline) and status, as of the last sweep.",
		}, []string{"kind", "status"}),
		offline: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "marked_offline_total",
			Help: "Nodes the sweeper marked offline after missed heartbeats, by kind.",
		}, []string{"kind"}),
		sweeps: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "sweeps_total",
			Help: "Sweeps of silent nodes completed.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "events_total",
			Help: "Heartbeat and session events stored, by consumer and result (applied, stale, unknown_node, ignored).",
		}, []string{"consumer", "result"}),
		assignments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "assignments_total",
			Help: "Outline assignment replies, by result (ok, NO_CAPACITY, REGION_UNKNOWN).",
		}, []string{"result"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "registry", Name: "db_errors_total",
			Help: "Database operations that failed, by operation.",
		}, []string{"op"}),
	}
	for _, c := range []prometheus.Collector{m.nodes, m.offline, m.sweeps, m.events, m.assignments, m.dbErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registry metrics: %w", err)
		}
	}
	return m, nil
}
