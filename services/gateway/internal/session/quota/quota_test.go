package quota

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
)

// pool is a control plane granting from a fixed quota shared by its leases, byte for byte.
type pool struct {
	mu       sync.Mutex
	left     int64
	held     map[string]int64
	lowered  map[string]int64
	fail     int
	refusal  *schemas.RPCError
	requests int
	release  chan struct{}
}

func newPool(left int64) *pool { return &pool{left: left, held: map[string]int64{}} }

func (p *pool) Lease(ctx context.Context, req schemas.LeaseRequest) (schemas.LeaseGrant, error) {
	if p.release != nil {
		select {
		case <-p.release:
		case <-ctx.Done():
			return schemas.LeaseGrant{}, ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.fail > 0 {
		p.fail--
		return schemas.LeaseGrant{}, errors.New("no responders")
	}
	if p.refusal != nil {
		return schemas.LeaseGrant{}, p.refusal
	}
	if to, ok := p.lowered[req.SessionID]; ok {
		p.held[req.SessionID] = max(req.Used, to)
		return schemas.LeaseGrant{Granted: p.held[req.SessionID], Exhausted: true}, nil
	}
	add := min(req.Want, p.left)
	p.left -= add
	p.held[req.SessionID] += add
	return schemas.LeaseGrant{Granted: p.held[req.SessionID], Exhausted: add == 0}, nil
}

func (p *pool) open(id string, want int64) schemas.LeaseGrant {
	g, _ := p.Lease(context.Background(), schemas.LeaseRequest{SessionID: id, Want: want})
	return g
}

func newLease(t *testing.T, p *pool, id string, want int64) *Lease {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(ctx, Config{SessionID: id, GatewayID: "gw-1", Want: want, Retry: time.Millisecond}, p, p.open(id, want))
}

// drain takes chunk after chunk until an error and returns the bytes taken.
func drain(l *Lease, chunk int) (int64, error) {
	var total int64
	for {
		n, err := l.Take(context.Background(), chunk)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func TestTakeIsByteExact(t *testing.T) {
	tests := []struct {
		name     string
		quota    int64
		want     int64
		chunk    int
		sessions int
	}{
		{"one session, lease larger than the quota", 2_000_000, 8 << 20, 16 << 10, 1},
		{"one session, many leases", 2_000_000, 64 << 10, 16 << 10, 1},
		{"four sessions share", 2_000_000, 100_000, 16 << 10, 4},
		{"odd chunk sizes", 1_000_003, 7_919, 1_499, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(tt.quota)
			var mu sync.Mutex
			var total int64
			var wg sync.WaitGroup
			for i := range tt.sessions {
				l := newLease(t, p, string(rune('a'+i)), tt.want)
				wg.Go(func() {
					n, err := drain(l, tt.chunk)
					if !errors.Is(err, ErrExhausted) {
						t.Errorf("drain ended with %v, want ErrExhausted", err)
					}
					if l.Used() != n {
						t.Errorf("Used = %d, took %d", l.Used(), n)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != tt.quota {
				t.Fatalf("took %d bytes in all, want exactly %d", total, tt.quota)
			}
		})
	}
}

func TestUnlimitedAndNil(t *testing.T) {
	l := New(context.Background(), Config{Want: 1}, nil, schemas.LeaseGrant{Unlimited: true})
	if n, err := l.Take(context.Background(), 1<<30); n != 1<<30 || err != nil {
		t.Fatalf("unlimited Take = %d, %v", n, err)
	}
	var none *Lease
	if n, err := none.Take(context.Background(), 100); n != 100 || err != nil || none.Used() != 0 {
		t.Fatalf("nil Take = %d, %v", n, err)
	}
}

func TestRetriesUntilTheControlPlaneAnswers(t *testing.T) {
	p := newPool(1000)
	p.fail = 3
	l := New(context.Background(), Config{SessionID: "s", Want: 1000, Retry: time.Millisecond}, p, schemas.LeaseGrant{})
	if n, err := l.Take(context.Background(), 600); n != 600 || err != nil {
		t.Fatalf("Take = %d, %v", n, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.requests < 4 {
		t.Fatalf("%d requests, want the 3 failures retried", p.requests)
	}
}

func TestRefusalEndsTheLease(t *testing.T) {
	p := newPool(0)
	p.refusal = &schemas.RPCError{Code: schemas.CodeSessionReplaced, Message: "replaced"}
	l := New(context.Background(), Config{SessionID: "s", Want: 1000, Retry: time.Millisecond}, p, schemas.LeaseGrant{Granted: 10})
	n, err := l.Take(context.Background(), 100)
	var re *schemas.RPCError
	if n != 10 || !errors.As(err, &re) || re.Code != schemas.CodeSessionReplaced {
		t.Fatalf("Take = %d, %v; want the 10 left and SESSION_REPLACED", n, err)
	}
}

func TestRefreshGrantsARaisedQuota(t *testing.T) {
	p := newPool(100)
	l := New(context.Background(), Config{SessionID: "s", Want: 1000, Retry: time.Millisecond}, p, schemas.LeaseGrant{})
	if n, err := drain(l, 30); n != 100 || !errors.Is(err, ErrExhausted) {
		t.Fatalf("drain = %d, %v", n, err)
	}
	p.mu.Lock()
	p.left = 500
	p.mu.Unlock()
	l.Refresh(false)
	if n, err := drain(l, 30); n != 500 || !errors.Is(err, ErrExhausted) {
		t.Fatalf("drain after refresh = %d, %v; want the 500 added", n, err)
	}
	l.Refresh(true)
	if n, err := l.Take(context.Background(), 1<<20); n != 1<<20 || err != nil {
		t.Fatalf("Take after refresh to unlimited = %d, %v", n, err)
	}
}

func TestTakeWaitsForTheLeaseAndEndsWithItsContext(t *testing.T) {
	p := newPool(1000)
	p.release = make(chan struct{})
	l := New(context.Background(), Config{SessionID: "s", Want: 1000, Retry: time.Millisecond}, p, schemas.LeaseGrant{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Take(ctx, 10)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Take = %v, want context.Canceled", err)
	}
	close(p.release)
	if n, err := l.Take(context.Background(), 10); n != 10 || err != nil {
		t.Fatalf("Take after the grant = %d, %v", n, err)
	}
}

// lower makes the pool take back the session's lease down to to bytes, as after a lowered limit.
func (p *pool) lower(id string, to int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.left = 0
	if p.lowered == nil {
		p.lowered = map[string]int64{}
	}
	p.lowered[id] = to
}

func settled(t *testing.T, l *Lease) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		asking := l.asking
		l.mu.Unlock()
		if !asking {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("lease request still on its way after 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRefreshTakesBackALoweredQuota(t *testing.T) {
	tests := []struct {
		name     string
		lowerTo  int64
		wantMore int64
	}{
		{"above what was moved: the rest up to the new grant", 1500, 500},
		{"below what was moved: nothing more", 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(10_000)
			l := newLease(t, p, "s", 5000)
			if n, err := l.Take(context.Background(), 1000); n != 1000 || err != nil {
				t.Fatalf("Take = %d, %v", n, err)
			}
			p.lower("s", tt.lowerTo)
			l.Refresh(false)
			settled(t, l)
			if n, err := drain(l, 100); n != tt.wantMore || !errors.Is(err, ErrExhausted) {
				t.Fatalf("drain after lowering = %d, %v; want %d and ErrExhausted", n, err, tt.wantMore)
			}
			if l.Used() != 1000+tt.wantMore {
				t.Fatalf("used = %d", l.Used())
			}
		})
	}
}

func TestRefreshDuringARequestAsksAgain(t *testing.T) {
	p := newPool(10_000)
	l := newLease(t, p, "s", 1000)
	p.release = make(chan struct{}, 2)
	if n, err := l.Take(context.Background(), 600); n != 600 || err != nil {
		t.Fatalf("Take = %d, %v", n, err)
	}
	p.lower("s", 700)
	l.Refresh(false)
	p.release <- struct{}{}
	p.release <- struct{}{}
	settled(t, l)
	p.mu.Lock()
	requests := p.requests
	p.mu.Unlock()
	if requests != 3 {
		t.Fatalf("%d requests to the pool, want the open, the one on its way and one more after the refresh", requests)
	}
	if n, err := drain(l, 50); n != 100 || !errors.Is(err, ErrExhausted) {
		t.Fatalf("drain = %d, %v; want the 100 left under the lowered grant", n, err)
	}
}
