// Package metrics holds the Prometheus metrics of the gateway. Label values are bounded sets.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "httvps_gateway"

const (
	DirectionUp   = "up"
	DirectionDown = "down"

	OpValidate       = "validate_device"
	OpAssign         = "assign_outline"
	OpPublishUsage   = "publish_usage"
	OpPublishSession = "publish_session"
	OpHeartbeat      = "heartbeat"
	OpSlots          = "slots"
	OpDialReport     = "dial_report"

	DialNode      = "node"
	DialTarget    = "target"
	DialResolve   = "resolve"
	DialForbidden = "forbidden"
)

type Metrics struct {
	SessionsActive prometheus.Gauge
	StreamsActive  prometheus.Gauge
	Handshakes     *prometheus.CounterVec
	SessionsEnded  *prometheus.CounterVec
	Bytes          *prometheus.CounterVec
	BytesUp        prometheus.Counter
	BytesDown      prometheus.Counter
	NATSLatency    *prometheus.HistogramVec
	NATSErrors     *prometheus.CounterVec
	UpstreamErrors *prometheus.CounterVec
	NodeFailovers  prometheus.Counter
	UsagePending   prometheus.Gauge
	UsageDropped   prometheus.Counter
	LimitRefusals  *prometheus.CounterVec
	MemoryCharged  prometheus.Gauge
	UDPFlows       prometheus.Gauge
	UDPDatagrams   *prometheus.CounterVec
	UDPDropped     *prometheus.CounterVec
}

// Reasons a datagram is dropped or refused.
const (
	DropRate      = "rate"
	DropOversize  = "oversize"
	DropQueue     = "queue"
	DropForbidden = "forbidden"
	DropResolve   = "resolve"
	DropFlows     = "flows"
	DropQuota     = "quota"
	DropNode      = "node"
)

func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		SessionsActive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "sessions_active", Help: "Sessions past hello_ok and not yet ended."}),
		StreamsActive:  prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "streams_active", Help: "Open streams over all sessions."}),
		Handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "handshakes_total",
			Help: "Handshakes by result: ok or the error code sent."}, []string{"result"}),
		SessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "sessions_ended_total",
			Help: "Ended sessions by reason."}, []string{"reason"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "bytes_total",
			Help: "Stream payload bytes relayed: up is client to upstream, down is upstream to client."}, []string{"direction"}),
		NATSLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "nats_request_duration_seconds",
			Help: "Latency of NATS requests and JetStream publishes.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"op"}),
		NATSErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "nats_errors_total",
			Help: "Failed NATS requests and publishes by operation."}, []string{"op"}),
		UpstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "upstream_dial_errors_total",
			Help: "Streams that could not reach their target: node, target, resolve or forbidden."}, []string{"kind"}),
		NodeFailovers: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "node_failovers_total",
			Help: "Sessions moved to another Outline node after the assigned one failed."}),
		UsagePending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "usage_pending",
			Help: "Sessions with usage or session events waiting to be published."}),
		UsageDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "usage_dropped_total",
			Help: "Pending session records dropped because the pending limit was reached."}),
		LimitRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "limit_refusals_total",
			Help: "Connections, streams and sessions refused or ended by a gateway protection limit."}, []string{"limit"}),
		MemoryCharged: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "memory_charged_bytes",
			Help: "Memory held for clients and charged to the gateway's memory budget."}),
		UDPFlows: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "udp_flows_active", Help: "Open UDP flows over all sessions."}),
		UDPDatagrams: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "udp_datagrams_total",
			Help: "UDP datagrams relayed: up is client to Outline node, down is Outline node to client."}, []string{"direction"}),
		UDPDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "udp_dropped_total",
			Help: "UDP datagrams dropped or refused by reason: rate, oversize, queue, forbidden, resolve, flows, node."}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.SessionsActive, m.StreamsActive, m.Handshakes, m.SessionsEnded, m.Bytes,
		m.NATSLatency, m.NATSErrors, m.UpstreamErrors, m.NodeFailovers, m.UsagePending, m.UsageDropped,
		m.LimitRefusals, m.MemoryCharged, m.UDPFlows, m.UDPDatagrams, m.UDPDropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	m.BytesUp = m.Bytes.WithLabelValues(DirectionUp)
	m.BytesDown = m.Bytes.WithLabelValues(DirectionDown)
	for _, kind := range []string{DialNode, DialTarget, DialResolve, DialForbidden} {
		m.UpstreamErrors.WithLabelValues(kind)
	}
	for _, r := range []string{DropRate, DropOversize, DropQueue, DropForbidden, DropResolve, DropFlows, DropNode, DropQuota} {
		m.UDPDropped.WithLabelValues(r)
	}
	return m, nil
}
