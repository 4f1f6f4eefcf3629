package upstream_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/testkit"
)

// countingNode is a TCP relay in front of an Outline node that counts the connections it
// accepted and can close them all, as a node closing idle connections does.
type countingNode struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64
	open     atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func startCountingNode(t testing.TB, behind schemas.OutlineAssignment) (*countingNode, schemas.OutlineAssignment) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	n := &countingNode{ln: ln, target: net.JoinHostPort(behind.InternalIP, strconv.Itoa(behind.SSPort))}
	go n.accept()
	t.Cleanup(func() {
		ln.Close()
		n.closeAll()
	})
	a := behind
	a.SSPort = ln.Addr().(*net.TCPAddr).Port
	return n, a
}

func (n *countingNode) accept() {
	for {
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		n.accepted.Add(1)
		n.open.Add(1)
		n.mu.Lock()
		n.conns = append(n.conns, c)
		n.mu.Unlock()
		go n.relay(c)
	}
}

func (n *countingNode) relay(c net.Conn) {
	defer n.open.Add(-1)
	defer c.Close()
	s, err := net.Dial("tcp", n.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() {
		_, _ = io.Copy(s, c)
		s.Close()
	}()
	_, _ = io.Copy(c, s)
}

func (n *countingNode) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.conns {
		c.Close()
	}
	n.conns = nil
}

// testBudget is a memory budget of limit bytes.
type testBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *testBudget) TryCharge(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *testBudget) Release(n int64) { b.used.Add(-n) }

// spareSet is a node set on one counting node with spares kept for idle.
func spareSet(t *testing.T, idle time.Duration) (*upstream.NodeSet, *countingNode, *sync.WaitGroup) {
	t.Helper()
	node, a := startCountingNode(t, testenv.OutlineServer(t, 1, testenv.Region))
	cfg := poolConfig()
	cfg.SpareIdle = idle
	set := newSet(t, upstream.NewPool(cfg), &region{nodes: []schemas.OutlineAssignment{a}})
	var spares sync.WaitGroup
	t.Cleanup(spares.Wait)
	return set, node, &spares
}

func TestSpareCarriesTheNextStream(t *testing.T) {
	set, node, spares := spareSet(t, time.Minute)
	mem := &testBudget{limit: 1 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := set.Dial(ctx, echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	roundTrip(t, first, "first")
	first.Close()
	set.Refill(ctx, mem, spares.Go)
	testkit.Eventually(t, 10*time.Second, "the spare connection", func() bool { return node.accepted.Load() == 2 })
	if got := mem.used.Load(); got != upstream.SpareCost {
		t.Fatalf("a kept spare charges %d, want %d", got, upstream.SpareCost)
	}
	set.Refill(ctx, mem, spares.Go)
	second, err := set.Dial(ctx, echoAddr(t))
	if err != nil {
		t.Fatalf("dial on the spare: %v", err)
	}
	defer second.Close()
	roundTrip(t, second, "on the spare")
	if got := node.accepted.Load(); got != 2 {
		t.Fatalf("node accepted %d connections, want 2 (a second Refill while one is kept dials none, the stream takes the spare)", got)
	}
	testkit.Eventually(t, 10*time.Second, "the spare's memory", func() bool { return mem.used.Load() == 0 })
}

func TestSpareIsClosed(t *testing.T) {
	tests := []struct {
		name string
		idle time.Duration
		end  func(t *testing.T, cancel context.CancelFunc, set *upstream.NodeSet)
	}{
		{"unused for the idle time", 20 * time.Millisecond, func(*testing.T, context.CancelFunc, *upstream.NodeSet) {}},
		{"when the session ends", time.Minute, func(_ *testing.T, cancel context.CancelFunc, _ *upstream.NodeSet) { cancel() }},
		{"when dropped for memory", time.Minute, func(t *testing.T, _ context.CancelFunc, set *upstream.NodeSet) {
			testkit.Eventually(t, 10*time.Second, "a spare to drop", set.DropSpare)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, node, spares := spareSet(t, tt.idle)
			mem := &testBudget{limit: 1 << 20}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			set.Refill(ctx, mem, spares.Go)
			testkit.Eventually(t, 10*time.Second, "the spare connection", func() bool { return node.open.Load() == 1 })
			tt.end(t, cancel, set)
			testkit.Eventually(t, 10*time.Second, "the spare to close", func() bool { return node.open.Load() == 0 })
			spares.Wait()
			if got := mem.used.Load(); got != 0 {
				t.Fatalf("%d bytes still charged after the spare closed", got)
			}
		})
	}
}

func TestSpareTheNodeClosedIsNotUsed(t *testing.T) {
	set, node, spares := spareSet(t, time.Minute)
	mem := &testBudget{limit: 1 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	set.Refill(ctx, mem, spares.Go)
	testkit.Eventually(t, 10*time.Second, "the spare connection", func() bool { return node.open.Load() == 1 })
	node.closeAll()
	testkit.Eventually(t, 10*time.Second, "the node to close it", func() bool { return node.open.Load() == 0 })
	c, err := set.Dial(ctx, echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "on a fresh connection")
	if got := node.accepted.Load(); got != 2 {
		t.Fatalf("node accepted %d connections, want 2 (the closed spare, then a fresh one)", got)
	}
}

func TestNoSpareWithoutRoomOrWhenOff(t *testing.T) {
	tests := []struct {
		name  string
		idle  time.Duration
		limit int64
	}{
		{"memory budget full", time.Minute, upstream.SpareCost - 1},
		{"spares off", 0, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, node, spares := spareSet(t, tt.idle)
			mem := &testBudget{limit: tt.limit}
			set.Refill(context.Background(), mem, spares.Go)
			spares.Wait()
			if node.accepted.Load() != 0 || mem.used.Load() != 0 {
				t.Fatalf("accepted %d, charged %d; want no spare", node.accepted.Load(), mem.used.Load())
			}
		})
	}
}
