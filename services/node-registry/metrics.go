package noderegistry

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/jsconsume"
	sharedmetrics "github.com/httvps/httvps/shared/metrics"
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
	moves       *prometheus.CounterVec
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
	sub := sharedmetrics.Subsystem("registry")
	m := &metrics{
		rpc:         rm,
		consumer:    cm,
		nodes:       sub.GaugeVec("nodes", "Nodes by kind (gateway, outline) and status, as of the last sweep.", "kind", "status"),
		offline:     sub.CounterVec("marked_offline_total", "Nodes the sweeper marked offline after missed heartbeats, by kind.", "kind"),
		sweeps:      sub.Counter("sweeps_total", "Sweeps of silent nodes completed."),
		events:      sub.CounterVec("events_total", "Heartbeats, session events and dial reports stored, by consumer and result (applied, stale, unknown_node, ignored, invalid).", "consumer", "result"),
		assignments: sub.CounterVec("assignments_total", "Outline assignment replies, by result (ok, NO_CAPACITY, REGION_UNKNOWN).", "result"),
		dbErrors:    sub.DBErrors("op"),
		moves:       sub.CounterVec("outline_moves_total", "Move events telling gateways to move sessions off an Outline node, by source (agent, dials, sweeper, admin).", "source"),
	}
	if err := sharedmetrics.Register(reg, m.nodes, m.offline, m.sweeps, m.events, m.assignments, m.dbErrors, m.moves); err != nil {
		return nil, fmt.Errorf("registry metrics: %w", err)
	}
	return m, nil
}
