package upstream

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
)

type PoolConfig struct {
	DialTimeout time.Duration
	// NodeAttempts is how many nodes one stream may try when they cannot be reached.
	NodeAttempts int
	// ReplayLimit is how many bytes a stream keeps before the first reply, to replay them on
	// another node if its node resets the connection; 0 turns the replay off.
	ReplayLimit int
	// ProbeInterval is how often a node whose connect failed is dialed again, for ProbeFor.
	ProbeInterval time.Duration
	ProbeFor      time.Duration
	// SpareIdle is how long a session keeps a TCP connection to its node opened ahead of its
	// next stream (NodeSet.Refill) when no stream takes it; 0 keeps none.
	SpareIdle time.Duration
}

const maxReportedError = 255

// Pool is what the gateway knows about Outline nodes across its sessions: the outcome of its
// connects to each node (passive health, reported to the control plane), the nodes whose
// connects fail (probed until they answer again) and the nodes the control plane moved
// sessions off.
type Pool struct {
	cfg    PoolConfig
	notify chan struct{}

	mu      sync.Mutex
	tally   map[int64]*schemas.OutlineDialCount
	failing map[int64]failingNode
	moves   map[int64]time.Time
}

type failingNode struct {
	node  *Node
	since time.Time
}

func NewPool(cfg PoolConfig) *Pool {
	return &Pool{
		cfg: cfg, notify: make(chan struct{}, 1),
		tally: map[int64]*schemas.OutlineDialCount{}, failing: map[int64]failingNode{}, moves: map[int64]time.Time{},
	}
}

// Changed fires when a node starts failing or answers again: a report is due.
func (p *Pool) Changed() <-chan struct{} { return p.notify }

// TakeReport returns the dial outcomes since the last call, per node.
func (p *Pool) TakeReport() []schemas.OutlineDialCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]schemas.OutlineDialCount, 0, len(p.tally))
	for id, c := range p.tally {
		out = append(out, *c)
		delete(p.tally, id)
	}
	return out
}

func (p *Pool) record(node *Node, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.tally[node.ID]
	if c == nil {
		c = &schemas.OutlineDialCount{NodeID: node.ID}
		p.tally[node.ID] = c
	}
	_, wasFailing := p.failing[node.ID]
	c.LastOK = err == nil
	if err == nil {
		c.Successes++
		delete(p.failing, node.ID)
		if wasFailing {
			p.signal()
		}
		return
	}
	c.Failures++
	c.LastError = truncate(err.Error(), maxReportedError)
	if !wasFailing {
		p.failing[node.ID] = failingNode{node: node, since: time.Now()}
	}
	p.signal()
}

func (p *Pool) signal() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// MoveOff records that sessions must leave the node: each session's next stream on it
// goes to another node first.
func (p *Pool) MoveOff(nodeID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.moves[nodeID] = now
	for id, at := range p.moves {
		if now.Sub(at) > time.Hour {
			delete(p.moves, id)
		}
	}
}

// movedOff tells whether the node was moved off after a session took it at since.
func (p *Pool) movedOff(nodeID int64, since time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.moves[nodeID]
	return ok && at.After(since)
}

// RunProbes dials the failing nodes every probe interval until they connect or have failed
// for longer than the probe window, so the control plane learns when they answer again.
func (p *Pool) RunProbes(ctx context.Context) {
	t := time.NewTicker(p.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.probe(ctx)
		}
	}
}

func (p *Pool) probe(ctx context.Context) {
	for _, f := range p.failingNodes() {
		d := net.Dialer{Timeout: p.cfg.DialTimeout}
		conn, err := d.DialContext(ctx, "tcp", f.node.Addr)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			conn.Close()
		}
		p.record(f.node, err)
	}
}

func (p *Pool) failingNodes() []failingNode {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]failingNode, 0, len(p.failing))
	for id, f := range p.failing {
		if time.Since(f.since) > p.cfg.ProbeFor {
			delete(p.failing, id)
			continue
		}
		out = append(out, f)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
