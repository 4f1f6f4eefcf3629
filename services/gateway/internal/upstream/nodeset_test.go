package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/testkit"
)

// region assigns its nodes in order, skipping excluded ones, and records the moves.
type region struct {
	mu    sync.Mutex
	nodes []schemas.OutlineAssignment
	moves [][2]int64
}

func (r *region) assign(_ context.Context, exclude []int64) (schemas.OutlineAssignment, *schemas.RPCError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.nodes {
		if !slices.Contains(exclude, n.NodeID) {
			return n, nil
		}
	}
	return schemas.OutlineAssignment{}, &schemas.RPCError{Code: schemas.CodeNoCapacity, Message: "none left"}
}

func (r *region) moved(from, to *upstream.Node) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.moves = append(r.moves, [2]int64{from.ID, to.ID})
}

func (r *region) movesSoFar() [][2]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.moves)
}

func poolConfig() upstream.PoolConfig {
	return upstream.PoolConfig{DialTimeout: 2 * time.Second, NodeAttempts: 3, ReplayLimit: 16 << 10,
		ProbeInterval: 50 * time.Millisecond, ProbeFor: time.Minute}
}

func newSet(t testing.TB, pool *upstream.Pool, r *region) *upstream.NodeSet {
	t.Helper()
	set, refusal := pool.NewNodeSet(context.Background(), r.assign, r.moved)
	if refusal != nil {
		t.Fatalf("first node: %+v", refusal)
	}
	return set
}

func echoAddr(t testing.TB) netip.AddrPort {
	return netip.MustParseAddrPort(testenv.EchoTarget(t).Addr)
}

// roundTrip writes msg, half-closes and reads the echo back.
func roundTrip(t testing.TB, c *upstream.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v; want %q", got, err, msg)
	}
}

func TestDialMovesPastUnreachableNodes(t *testing.T) {
	live := testenv.OutlineServer(t, 3, testenv.Region)
	r := &region{nodes: []schemas.OutlineAssignment{testenv.DeadNode(t, 1, testenv.Region), testenv.DeadNode(t, 2, testenv.Region), live}}
	pool := upstream.NewPool(poolConfig())
	set := newSet(t, pool, r)
	c, err := set.Dial(context.Background(), echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "through the third node")
	if got := r.movesSoFar(); !slices.Equal(got, [][2]int64{{1, 2}, {2, 3}}) {
		t.Fatalf("moves = %v, want 1->2->3", got)
	}
	if set.Current().ID != 3 || c.NodeID() != 3 {
		t.Fatalf("current node = %d, conn on %d; want 3", set.Current().ID, c.NodeID())
	}
	report := map[int64]schemas.OutlineDialCount{}
	for _, n := range pool.TakeReport() {
		report[n.NodeID] = n
	}
	for id, want := range map[int64]schemas.OutlineDialCount{1: {NodeID: 1, Failures: 1}, 2: {NodeID: 2, Failures: 1}, 3: {NodeID: 3, Successes: 1, LastOK: true}} {
		got := report[id]
		got.LastError = ""
		if got != want {
			t.Errorf("node %d report = %+v, want %+v", id, got, want)
		}
	}
	if report[1].LastError == "" {
		t.Error("a failed node's report carries no error")
	}
	select {
	case <-pool.Changed():
	default:
		t.Error("a node that started failing did not signal a report")
	}
}

func TestDialGivesUpAfterTheNodeAttempts(t *testing.T) {
	var nodes []schemas.OutlineAssignment
	for id := range int64(5) {
		nodes = append(nodes, testenv.DeadNode(t, id+1, testenv.Region))
	}
	r := &region{nodes: nodes}
	set := newSet(t, upstream.NewPool(poolConfig()), r)
	_, err := set.Dial(context.Background(), echoAddr(t))
	var f *upstream.Failure
	if !errors.As(err, &f) || f.Code != schemas.CodeUpstreamUnreachable || f.Kind != "node" {
		t.Fatalf("err = %v, want UPSTREAM_UNREACHABLE of kind node", err)
	}
	if got := len(r.movesSoFar()); got != 2 {
		t.Fatalf("moves = %d, want 2 (three nodes tried)", got)
	}
}

func TestResetBeforeReplyIsReplayedOnAnotherNode(t *testing.T) {
	for _, kind := range []string{"outline-ss-server", "ss-server"} {
		t.Run(kind, func(t *testing.T) {
			live := testenv.OutlineServer(t, 2, testenv.Region)
			if kind == "ss-server" {
				live = testenv.SSServer(t, 2, testenv.Region)
			}
			r := &region{nodes: []schemas.OutlineAssignment{testenv.ResetNode(t, 1, testenv.Region), live}}
			set := newSet(t, upstream.NewPool(poolConfig()), r)
			c, err := set.Dial(context.Background(), echoAddr(t))
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if c.NodeID() != 1 {
				t.Fatalf("first connection on node %d, want the resetting node 1", c.NodeID())
			}
			roundTrip(t, c, "written before the reset, replayed on node 2")
			if c.NodeID() != 2 || set.Current().ID != 2 {
				t.Fatalf("stream on node %d, session on %d; want 2", c.NodeID(), set.Current().ID)
			}
			roundTrip(t, c, "after the reply, straight through")
		})
	}
}

func TestResetAfterTheReplayLimitReachesTheCaller(t *testing.T) {
	cfg := poolConfig()
	cfg.ReplayLimit = 1024
	r := &region{nodes: []schemas.OutlineAssignment{testenv.ResetNode(t, 1, testenv.Region), testenv.OutlineServer(t, 2, testenv.Region)}}
	set := newSet(t, upstream.NewPool(cfg), r)
	c, err := set.Dial(context.Background(), echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_, _ = c.Write(make([]byte, 2048))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 16)); err == nil {
		t.Fatal("a stream that wrote more than it can replay was moved silently")
	}
	if len(r.movesSoFar()) != 0 {
		t.Fatalf("moves = %v, want none", r.movesSoFar())
	}
}

func TestMoveOffSendsTheNextStreamElsewhere(t *testing.T) {
	first, second := testenv.OutlineServer(t, 1, testenv.Region), testenv.OutlineServer(t, 2, testenv.Region)
	r := &region{nodes: []schemas.OutlineAssignment{first, second}}
	pool := upstream.NewPool(poolConfig())
	set := newSet(t, pool, r)
	pool.MoveOff(1)
	c, err := set.Dial(context.Background(), echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	roundTrip(t, c, "on the second node")
	if c.NodeID() != 2 || pool.TakeReport()[0].NodeID != 2 {
		t.Fatalf("stream on node %d, want 2 without dialing node 1", c.NodeID())
	}
	later := newSet(t, pool, &region{nodes: []schemas.OutlineAssignment{first}})
	c2, err := later.Dial(context.Background(), echoAddr(t))
	if err != nil || c2.NodeID() != 1 {
		t.Fatalf("a session assigned node 1 after the move: %v", err)
	}
	c2.Close()
}

func TestProbesReportANodeThatAnswersAgain(t *testing.T) {
	node := testenv.StartSSProcess(t, 1, testenv.Region)
	node.Kill()
	r := &region{nodes: []schemas.OutlineAssignment{node.Node, testenv.OutlineServer(t, 2, testenv.Region)}}
	pool := upstream.NewPool(poolConfig())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go pool.RunProbes(ctx)
	set := newSet(t, pool, r)
	c, err := set.Dial(context.Background(), echoAddr(t))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
	failures := 0
	testkit.Eventually(t, 10*time.Second, "probes of the dead node fail", func() bool {
		for _, n := range pool.TakeReport() {
			if n.NodeID == 1 {
				failures += n.Failures
			}
		}
		return failures >= 3
	})
	node.Start()
	testkit.Eventually(t, 10*time.Second, "a probe reports node 1 answering", func() bool {
		for _, n := range pool.TakeReport() {
			if n.NodeID == 1 && n.LastOK {
				return true
			}
		}
		return false
	})
}
