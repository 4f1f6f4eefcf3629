package upstream

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

// Assign asks the control plane for a node, avoiding the excluded ones.
type Assign func(ctx context.Context, exclude []int64) (schemas.OutlineAssignment, *schemas.RPCError)

const maxUnusableAssignments = 3

// NodeSet is the Outline node of one session. When the node fails, it asks for another one
// that excludes the failed nodes, and the streams from then on use the replacement.
type NodeSet struct {
	pool       *Pool
	assign     Assign
	onFailover func(from, to *Node)

	mu        sync.Mutex
	current   *Node
	since     time.Time
	failed    []int64
	spare     *spare
	refilling bool
}

// NewNodeSet gets the first node of a session.
func (p *Pool) NewNodeSet(ctx context.Context, assign Assign, onFailover func(from, to *Node)) (*NodeSet, *schemas.RPCError) {
	s := &NodeSet{pool: p, assign: assign, onFailover: onFailover}
	node, refusal := s.next(ctx)
	if refusal != nil {
		return nil, refusal
	}
	s.current, s.since = node, time.Now()
	return s, nil
}

func (s *NodeSet) Current() *Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// next asks for a usable node, skipping assignments whose settings cannot be used.
func (s *NodeSet) next(ctx context.Context) (*Node, *schemas.RPCError) {
	for range maxUnusableAssignments {
		a, refusal := s.assign(ctx, slices.Clone(s.failed))
		if refusal != nil {
			return nil, refusal
		}
		node, err := NewNode(a)
		if err == nil {
			return node, nil
		}
		s.failed = append(s.failed, a.NodeID)
	}
	return nil, &schemas.RPCError{Code: schemas.CodeNoCapacity, Message: "the assigned outline nodes have unusable settings"}
}

// Dial opens a stream to target on the session's node, on the spare connection if the set has
// one (see Refill). A node that cannot be reached is replaced and the stream tried on the
// replacement, up to the pool's node attempts; a node the control plane moved sessions off is
// replaced before dialing.
func (s *NodeSet) Dial(ctx context.Context, target netip.AddrPort) (*Conn, error) {
	node := s.Current()
	if s.pool.movedOff(node.ID, s.sinceOf(node)) {
		if next, err := s.failover(ctx, node); err == nil {
			node = next
		}
	}
	if tcp := s.takeSpare(node); tcp != nil {
		nc, err := node.open(tcp, target)
		if err != nil {
			tcp.Close()
			return nil, err
		}
		s.pool.record(node, nil)
		return newConn(s, ctx, nc, target, s.pool.cfg.ReplayLimit), nil
	}
	nc, err := s.dialFrom(ctx, node, target, s.pool.cfg.NodeAttempts)
	if err != nil {
		return nil, err
	}
	return newConn(s, ctx, nc, target, s.pool.cfg.ReplayLimit), nil
}

// redial is the retry of a stream whose node reset it before any reply.
func (s *NodeSet) redial(ctx context.Context, failed *Node, target netip.AddrPort) (*nodeConn, error) {
	node, err := s.failover(ctx, failed)
	if err != nil {
		return nil, err
	}
	return s.dialFrom(ctx, node, target, s.pool.cfg.NodeAttempts-1)
}

func (s *NodeSet) dialFrom(ctx context.Context, node *Node, target netip.AddrPort, attempts int) (*nodeConn, error) {
	var tried []int64
	for {
		nc, err := node.dial(ctx, s.pool.cfg.DialTimeout, target)
		var down *nodeDown
		if !errors.As(err, &down) {
			if err == nil || ctx.Err() == nil {
				s.pool.record(node, nil)
			}
			return nc, err
		}
		if ctx.Err() != nil {
			return nil, err
		}
		s.pool.record(node, down.err)
		tried = append(tried, node.ID)
		if len(tried) >= attempts {
			return nil, unreachable(metrics.DialNode, "outline nodes %v are unreachable", tried)
		}
		next, ferr := s.failover(ctx, node)
		if ferr != nil {
			return nil, ferr
		}
		node = next
	}
}

func (s *NodeSet) sinceOf(node *Node) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != node {
		return time.Now()
	}
	return s.since
}

func (s *NodeSet) failover(ctx context.Context, failed *Node) (*Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != failed {
		return s.current, nil
	}
	s.failed = append(s.failed, failed.ID)
	node, refusal := s.next(ctx)
	if refusal != nil {
		s.failed = nil
		return nil, unreachable(metrics.DialNode, "outline node %d is unreachable and no other node was assigned (%s)", failed.ID, refusal.Code)
	}
	s.current, s.since = node, time.Now()
	if s.onFailover != nil {
		s.onFailover(failed, node)
	}
	return node, nil
}
