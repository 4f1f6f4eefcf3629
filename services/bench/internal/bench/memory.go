package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/services/client"
)

const (
	dialParallel = 32
	sessionsWait = 3 * time.Minute
)

// IdleMemory is the gateway's memory per idle session at one session count.
type IdleMemory struct {
	Sessions int
	// HeapStack and RSS are bytes per session: the growth over the empty gateway divided by
	// the number of sessions.
	HeapStack float64
	RSS       float64
	Heap      float64
	// Sites are the allocation sites that grew most, in bytes per session.
	Sites []SiteCost
}

type SiteCost struct {
	Site  string
	Bytes float64
}

func topSites(before, after map[string]int64, n, top int) []SiteCost {
	var out []SiteCost
	for site, b := range after {
		if d := float64(b-before[site]) / float64(n); d >= 64 {
			out = append(out, SiteCost{Site: site, Bytes: d})
		}
	}
	slices.SortFunc(out, func(a, b SiteCost) int { return cmp.Compare(b.Bytes, a.Bytes) })
	return out[:min(top, len(out))]
}

// measureIdleSessions opens n idle sessions (hello done, no stream) and reads the gateway
// child's memory before and after; the sessions are closed again.
func measureIdleSessions(ctx context.Context, g *gatewayChild, cfgFor func(int) client.Config, n int) (IdleMemory, error) {
	base, err := g.mem()
	if err != nil {
		return IdleMemory{}, fmt.Errorf("gateway memory: %w", err)
	}
	sessions := make([]*client.Session, n)
	defer closeAll(sessions)
	dctx, cancel := context.WithTimeout(ctx, sessionsWait)
	defer cancel()
	if err := inParallel(dctx, n, "session", func(i int) error {
		s, err := client.Dial(dctx, cfgFor(i))
		sessions[i] = s
		return err
	}); err != nil {
		return IdleMemory{}, err
	}
	if err := dctx.Err(); err != nil {
		return IdleMemory{}, fmt.Errorf("%d sessions not open within %s", n, sessionsWait)
	}
	after, err := g.mem()
	if err != nil {
		return IdleMemory{}, fmt.Errorf("gateway memory: %w", err)
	}
	if after.Sessions < n {
		return IdleMemory{}, fmt.Errorf("the gateway counts %d sessions, want %d", after.Sessions, n)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return IdleMemory{
		Sessions:  n,
		HeapStack: per(after.HeapInuse+after.StackInuse, base.HeapInuse+base.StackInuse),
		Heap:      per(after.HeapInuse, base.HeapInuse),
		RSS:       per(after.RSS, base.RSS),
		Sites:     topSites(base.Sites, after.Sites, n, 8),
	}, nil
}

func closeAll(sessions []*client.Session) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, s := range sessions {
		if s == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = s.Close()
		})
	}
	wg.Wait()
}

// waitNoSessions waits until the gateway has no session left, at most d.
func waitNoSessions(g *gatewayChild, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if m, err := g.mem(); err == nil && m.Sessions == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inParallel runs do for 0..n-1 on dialParallel workers until the first error or ctx ends.
func inParallel(ctx context.Context, n int, what string, do func(i int) error) error {
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range dialParallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil || firstErr.Load() != nil {
					return
				}
				if err := do(i); err != nil {
					e := fmt.Errorf("%s %d of %d: %w", what, i+1, n, err)
					firstErr.CompareAndSwap(nil, &e)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return nil
}
