// Package shaper limits the bytes per second of one direction of a session: a token bucket
// shared by the session's streams. Waiters are served in the order they asked, so streams that
// each ask for one chunk at a time share the rate fairly. A nil or unlimited Bucket never waits.
package shaper

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	bytesPerMbit = 1_000_000 / 8
	// burstTime is how much traffic an idle bucket lets through at once: a lone small request is
	// never delayed, a pump that wakes late (a loaded machine) catches up instead of losing its
	// share, and a bulk transfer measured over seconds stays within a few percent.
	burstTime = 250 * time.Millisecond
	// MinBurst is at least the largest chunk a stream asks for at once.
	MinBurst = 64 << 10
)

type Bucket struct {
	limited atomic.Bool
	lim     *rate.Limiter
}

// New returns a bucket of mbps megabits per second; nil means unlimited.
func New(mbps *int) *Bucket {
	b := &Bucket{lim: rate.NewLimiter(rate.Inf, MinBurst)}
	b.SetRate(mbps)
	return b
}

// SetRate changes the rate at once for every later Wait; nil means unlimited.
func (b *Bucket) SetRate(mbps *int) {
	if b == nil {
		return
	}
	if mbps == nil || *mbps <= 0 {
		b.limited.Store(false)
		b.lim.SetLimit(rate.Inf)
		return
	}
	bps := float64(*mbps) * bytesPerMbit
	b.lim.SetBurst(max(MinBurst, int(bps*burstTime.Seconds())))
	b.lim.SetLimit(rate.Limit(bps))
	b.limited.Store(true)
}

// Rate is the current rate in bytes per second, 0 when unlimited.
func (b *Bucket) Rate() float64 {
	if b == nil || !b.limited.Load() {
		return 0
	}
	return float64(b.lim.Limit())
}

// Wait blocks until n bytes may pass, or ctx ends. n above the burst is split.
func (b *Bucket) Wait(ctx context.Context, n int) error {
	if b == nil || !b.limited.Load() {
		return ctx.Err()
	}
	for n > 0 {
		step := min(n, b.lim.Burst())
		r := b.lim.ReserveN(time.Now(), step)
		if d := r.Delay(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return ctx.Err()
			}
		}
		n -= step
	}
	return ctx.Err()
}

// delayAt is how long n bytes asked for at now wait: the schedule Wait sleeps on.
func (b *Bucket) delayAt(now time.Time, n int) time.Duration {
	return b.lim.ReserveN(now, n).DelayFrom(now)
}
