package shaper

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mbps(v int) *int { return &v }

// measure runs streams that each move chunk-sized pieces through b until total bytes passed and
// returns the bytes per second and what each stream moved.
func measure(t *testing.T, b *Bucket, streams, chunk int, total int64) (float64, []int64) {
	t.Helper()
	var moved atomic.Int64
	per := make([]int64, streams)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// drain the initial burst so the measurement sees the steady rate
	if err := b.Wait(ctx, b.lim.Burst()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			for moved.Load() < total {
				if err := b.Wait(ctx, chunk); err != nil {
					t.Error(err)
					return
				}
				moved.Add(int64(chunk))
				per[i] += int64(chunk)
			}
		})
	}
	wg.Wait()
	return float64(moved.Load()) / time.Since(start).Seconds(), per
}

func TestRateWithinFivePercent(t *testing.T) {
	tests := []struct {
		name    string
		mbps    int
		streams int
	}{
		{"40 Mbit/s, one stream", 40, 1},
		{"40 Mbit/s, eight streams", 40, 8},
		{"8 Mbit/s, three streams", 8, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(mbps(tt.mbps))
			want := float64(tt.mbps) * bytesPerMbit
			got, per := measure(t, b, tt.streams, 16<<10, int64(want*2))
			if got < want*0.95 || got > want*1.05 {
				t.Fatalf("rate %.0f B/s, want %.0f ± 5%%", got, want)
			}
			var lo, hi int64 = per[0], per[0]
			for _, p := range per {
				lo, hi = min(lo, p), max(hi, p)
			}
			if tt.streams > 1 && float64(lo) < 0.7*float64(hi) {
				t.Fatalf("unfair split between streams: %v", per)
			}
		})
	}
}

func TestLoneSmallRequestDoesNotWait(t *testing.T) {
	for _, rate := range []int{1, 40, 1000} {
		b := New(mbps(rate))
		if r := b.lim.ReserveN(time.Now(), 1500); !r.OK() || r.Delay() != 0 {
			t.Fatalf("%d Mbit/s: a 1500-byte request on an idle bucket waits %s", rate, r.Delay())
		}
	}
}

func TestSetRate(t *testing.T) {
	b := New(nil)
	if b.Rate() != 0 {
		t.Fatalf("unlimited bucket has rate %v", b.Rate())
	}
	b.SetRate(mbps(40))
	if b.Rate() != 40*bytesPerMbit {
		t.Fatalf("rate = %v, want %v", b.Rate(), 40*bytesPerMbit)
	}
	b.SetRate(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx, 1<<30); err != context.Canceled {
		t.Fatalf("unlimited Wait with a cancelled context = %v, want context.Canceled", err)
	}
	var nilBucket *Bucket
	if err := nilBucket.Wait(context.Background(), 1<<20); err != nil {
		t.Fatalf("nil bucket: %v", err)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	b := New(mbps(1))
	_ = b.Wait(context.Background(), b.lim.Burst())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, 10<<20); err == nil {
		t.Fatal("a 10 MiB wait at 1 Mbit/s returned without error before its context ended")
	}
}
