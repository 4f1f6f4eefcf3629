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
	assign      Assign
	dialTimeout time.Duration
	onFailover  func(from, to *Node)

	mu      sync.Mutex
	current *Node
	failed  []int64
}

// NewNodeSet gets the first node of a session.
func NewNodeSet(ctx context.Context, assign Assign, dialTimeout time.Duration, onFailover func(from, to *Node)) (*NodeSet, *schemas.RPCError) {
	s := &NodeSet{assign: assign, dialTimeout: dialTimeout, onFailover: onFailover}
	node, refusal := s.next(ctx)
	if refusal != nil {
		return nil, refusal
	}
	s.current = node
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

// Dial opens a stream to target on the current node, moving to a replacement node once if
// the current one cannot be reached.
func (s *NodeSet) Dial(ctx context.Context, target netip.AddrPort) (*Conn, error) {
	node := s.Current()
	conn, err := node.Dial(ctx, s.dialTimeout, target)
	var down *nodeDown
	if !errors.As(err, &down) {
		return conn, err
	}
	replacement, ferr := s.failover(ctx, node)
	if ferr != nil {
		return nil, ferr
	}
	conn, err = replacement.Dial(ctx, s.dialTimeout, target)
	if errors.As(err, &down) {
		return nil, unreachable(metrics.DialNode, "outline node %d is unreachable", replacement.ID)
	}
	return conn, err
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
	s.current = node
	if s.onFailover != nil {
		s.onFailover(failed, node)
	}
	return node, nil
}
