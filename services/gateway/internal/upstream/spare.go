package upstream

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// SpareCost is what a spare connection is charged: its socket and the goroutine that keeps it.
const SpareCost = 16 << 10

// Budget is the memory a session charges its spare connection to.
type Budget interface {
	TryCharge(n int64) bool
	Release(n int64)
}

// spare is a TCP connection to the session's node opened ahead of its next stream, so that the
// stream skips the connect. A set keeps at most one; the goroutine that dialed it closes it
// when it was not taken within the pool's SpareIdle or when the session ends.
type spare struct {
	node  *Node
	tcp   *net.TCPConn
	mem   Budget
	taken chan struct{}
}

// Refill dials a spare connection for the next stream unless the set has one or spares are
// off. The spare lives while ctx does and is charged to mem; spawn runs the goroutine that
// dials and keeps it (the session's tracked goroutines, so it ends before the session does).
func (s *NodeSet) Refill(ctx context.Context, mem Budget, spawn func(func())) {
	idle := s.pool.cfg.SpareIdle
	s.mu.Lock()
	if idle <= 0 || s.spare != nil || s.refilling || ctx.Err() != nil || !mem.TryCharge(SpareCost) {
		s.mu.Unlock()
		return
	}
	s.refilling = true
	node := s.current
	s.mu.Unlock()
	spawn(func() {
		sp := s.dialSpare(ctx, node, mem)
		if sp == nil {
			mem.Release(SpareCost)
			return
		}
		t := time.NewTimer(idle)
		defer t.Stop()
		select {
		case <-sp.taken:
			return
		case <-ctx.Done():
		case <-t.C:
		}
		if s.remove(sp) {
			sp.tcp.Close()
		}
	})
}

func (s *NodeSet) dialSpare(ctx context.Context, node *Node, mem Budget) *spare {
	tcp, err := node.connect(ctx, s.pool.cfg.DialTimeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refilling = false
	if err != nil || ctx.Err() != nil || s.current != node {
		if err == nil {
			tcp.Close()
		}
		return nil
	}
	s.spare = &spare{node: node, tcp: tcp, mem: mem, taken: make(chan struct{})}
	return s.spare
}

// remove takes sp (or any spare, when sp is nil) out of the set and releases its memory; false
// when it was not there.
func (s *NodeSet) remove(sp *spare) bool {
	s.mu.Lock()
	got := s.spare
	if got == nil || (sp != nil && got != sp) {
		s.mu.Unlock()
		return false
	}
	s.spare = nil
	s.mu.Unlock()
	close(got.taken)
	got.mem.Release(SpareCost)
	return true
}

// takeSpare hands over the spare connection to node, if the set has one the node has not
// closed meanwhile; nil otherwise.
func (s *NodeSet) takeSpare(node *Node) *net.TCPConn {
	s.mu.Lock()
	sp := s.spare
	s.mu.Unlock()
	if sp == nil || !s.remove(sp) {
		return nil
	}
	if sp.node != node || !open(sp.tcp) {
		sp.tcp.Close()
		return nil
	}
	return sp.tcp
}

// DropSpare closes the spare connection, if any, and releases its memory; it reports whether
// there was one.
func (s *NodeSet) DropSpare() bool {
	s.mu.Lock()
	sp := s.spare
	s.mu.Unlock()
	if sp == nil || !s.remove(sp) {
		return false
	}
	sp.tcp.Close()
	return true
}

// open tells, without waiting, whether the peer has neither closed nor reset the connection
// and sent nothing on it.
func open(tcp *net.TCPConn) bool {
	rc, err := tcp.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = errors.Is(rerr, syscall.EAGAIN)
		return true
	})
	return alive
}
