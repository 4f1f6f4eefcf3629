// Package udp relays the UDP flows of one session (feature udp) through Shadowsocks UDP to
// the session's Outline node: flow and rate caps, the target policy on resolved addresses,
// idle flows closed, and memory bounded by dropping, never by queueing.
package udp

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

type Limits struct {
	MaxFlows    int
	MaxDatagram int
	// Rate is datagrams per second from the client over all flows of a session.
	Rate        int
	IdleTimeout time.Duration
	// Queued bounds the bytes of client datagrams waiting for their flow's socket.
	Queued int
}

// Sink is the session side: Datagram writes or queues a datagram for the client and must
// not wait for room (false: dropped); payload is valid only during the call. Closed sends
// udp_close and Refused an error frame with flow_id.
type Sink interface {
	Datagram(flowID uint32, source string, payload []byte) bool
	Closed(flowID uint32, code schemas.ErrorCode, limit schemas.LimitKind, message string)
	Refused(flowID uint32, code schemas.ErrorCode, limit schemas.LimitKind, message string)
}

// Resolver turns a target into the address to reach, applying the target policy.
type Resolver interface {
	Resolve(ctx context.Context, target string) (netip.AddrPort, error)
}

type Deps struct {
	Limits Limits
	Policy Resolver
	Node   func() *upstream.Node
	Usage  *accounting.Usage
	// Charge takes a datagram's bytes from the session's traffic quota; false drops it.
	Charge  func(ctx context.Context, n int) bool
	Metrics *metrics.Metrics
	Sink    Sink
	Log     zerolog.Logger
}

// Relay holds the flows of one session.
type Relay struct {
	Deps
	ctx     context.Context
	cancel  context.CancelFunc
	rate    *bucket
	up      prometheus.Counter
	down    prometheus.Counter
	queued  atomic.Int64
	scratch []byte
	running sync.WaitGroup

	mu    sync.Mutex
	flows map[uint32]*flow
}

func New(ctx context.Context, d Deps) *Relay {
	ctx, cancel := context.WithCancel(ctx)
	r := &Relay{Deps: d, ctx: ctx, cancel: cancel, rate: newBucket(d.Limits.Rate, time.Now()), flows: map[uint32]*flow{},
		up:   d.Metrics.UDPDatagrams.WithLabelValues(metrics.DirectionUp),
		down: d.Metrics.UDPDatagrams.WithLabelValues(metrics.DirectionDown)}
	r.running.Go(r.sweep)
	return r
}

// Send relays one client datagram; it never blocks on the network. A datagram to an IP
// address is written at once (the policy's answer remembered by the flow); one to a host name
// waits in its flow's queue for the resolver.
// Send is called from one goroutine (the session's read loop) and f.Payload is not kept.
func (r *Relay) Send(f schemas.UDPData) {
	switch {
	case !r.rate.take(time.Now()):
		r.drop(metrics.DropRate)
		return
	case len(f.Payload) > r.Limits.MaxDatagram:
		r.drop(metrics.DropOversize)
		r.Sink.Refused(f.FlowID, schemas.CodeLimitReached, schemas.LimitDatagram,
			fmt.Sprintf("a datagram of %d bytes is over max_datagram %d", len(f.Payload), r.Limits.MaxDatagram))
		return
	}
	fl, ok := r.flow(f.FlowID)
	if !ok {
		return
	}
	if head, ok := fl.literals[f.Addr]; ok {
		r.scratch = fl.send(head, f.Payload, r.scratch)
		return
	}
	if _, err := netip.ParseAddrPort(f.Addr); err == nil {
		if head, ok := fl.head(fl.literals, f.Addr); ok {
			r.scratch = fl.send(head, f.Payload, r.scratch)
		}
		return
	}
	f.Payload = append([]byte(nil), f.Payload...)
	if !r.reserve(len(f.Payload)) {
		r.drop(metrics.DropQueue)
		return
	}
	if !fl.enqueue(f) {
		r.release(len(f.Payload))
		r.drop(metrics.DropQueue)
	}
}

// Close ends a flow at the client's request; nothing is sent back.
func (r *Relay) Close(flowID uint32) {
	if fl := r.take(flowID); fl != nil {
		fl.stop()
	}
}

// Shutdown closes every flow and waits for their goroutines.
func (r *Relay) Shutdown() {
	r.cancel()
	r.mu.Lock()
	flows := make([]*flow, 0, len(r.flows))
	for id, fl := range r.flows {
		flows = append(flows, fl)
		delete(r.flows, id)
	}
	r.mu.Unlock()
	for _, fl := range flows {
		fl.stop()
	}
	r.running.Wait()
}

// Flows is the number of open flows.
func (r *Relay) Flows() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.flows)
}

// flow finds or opens the flow; false when it could not be opened (the client was told).
func (r *Relay) flow(id uint32) (*flow, bool) {
	r.mu.Lock()
	if fl := r.flows[id]; fl != nil {
		r.mu.Unlock()
		return fl, true
	}
	if r.ctx.Err() != nil {
		r.mu.Unlock()
		return nil, false
	}
	if len(r.flows) >= r.Limits.MaxFlows {
		r.mu.Unlock()
		r.drop(metrics.DropFlows)
		r.Sink.Closed(id, schemas.CodeLimitReached, schemas.LimitFlows, fmt.Sprintf("a session may have %d UDP flows", r.Limits.MaxFlows))
		return nil, false
	}
	node := r.Node()
	fl, err := openFlow(r, id, node)
	if err != nil {
		r.mu.Unlock()
		r.drop(metrics.DropNode)
		r.Log.Warn().Err(err).Uint32("flow", id).Msg("udp flow not opened")
		r.Sink.Closed(id, schemas.CodeUpstreamUnreachable, "", err.Error())
		return nil, false
	}
	r.flows[id] = fl
	r.Metrics.UDPFlows.Inc()
	r.mu.Unlock()
	r.running.Go(fl.sendLoop)
	r.running.Go(fl.readLoop)
	return fl, true
}

// take removes the flow from the relay; nil if it is not open.
func (r *Relay) take(id uint32) *flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	fl := r.flows[id]
	if fl != nil {
		delete(r.flows, id)
	}
	return fl
}

func (r *Relay) reserve(n int) bool {
	if r.queued.Add(int64(n)) > int64(r.Limits.Queued) {
		r.queued.Add(-int64(n))
		return false
	}
	return true
}

func (r *Relay) release(n int) { r.queued.Add(-int64(n)) }

func (r *Relay) drop(reason string) { r.Metrics.UDPDropped.WithLabelValues(reason).Inc() }

// sweep closes flows idle for longer than the idle timeout.
func (r *Relay) sweep() {
	tick := min(max(r.Limits.IdleTimeout/4, 10*time.Millisecond), 10*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			for _, fl := range r.idle(now) {
				fl.stop()
				r.Sink.Closed(fl.id, schemas.CodeIdleTimeout, "", fmt.Sprintf("no datagram for %s", r.Limits.IdleTimeout))
			}
		}
	}
}

func (r *Relay) idle(now time.Time) []*flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*flow
	for id, fl := range r.flows {
		if now.Sub(fl.lastActive()) >= r.Limits.IdleTimeout {
			delete(r.flows, id)
			out = append(out, fl)
		}
	}
	return out
}
