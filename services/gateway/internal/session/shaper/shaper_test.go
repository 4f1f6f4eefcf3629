package shaper

import (
	"context"
	"slices"
	"testing"
	"time"
)

func mbps(v int) *int { return &v }

// simulate runs streams that each ask for one chunk at a time, and ask again once it passed,
// on the bucket's own schedule in virtual time, for d after an emptied bucket. It returns the
// bytes per second and what each stream moved.
func simulate(b *Bucket, streams, chunk int, d time.Duration) (float64, []int64) {
	start := time.Unix(1_000_000, 0)
	b.delayAt(start, b.lim.Burst())
	ready := make([]time.Time, streams)
	for i := range ready {
		ready[i] = start
	}
	per := make([]int64, streams)
	var total int64
	for {
		next := 0
		for i := range ready {
			if ready[i].Before(ready[next]) {
				next = i
			}
		}
		at := ready[next]
		passes := at.Add(b.delayAt(at, chunk))
		if passes.After(start.Add(d)) {
			break
		}
		per[next] += int64(chunk)
		total += int64(chunk)
		ready[next] = passes
	}
	return float64(total) / d.Seconds(), per
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
		{"1000 Mbit/s, 64 streams", 1000, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(mbps(tt.mbps))
			want := float64(tt.mbps) * bytesPerMbit
			got, per := simulate(b, tt.streams, 16<<10, 10*time.Second)
			if got < want*0.95 || got > want*1.05 {
				t.Fatalf("rate %.0f B/s, want %.0f ± 5%%", got, want)
			}
			lo, hi := slices.Min(per), slices.Max(per)
			if hi-lo > 16<<10 {
				t.Fatalf("unfair split between streams: %v", per)
			}
		})
	}
}

func TestWaitFollowsTheSchedule(t *testing.T) {
	b := New(mbps(8)) // 1 MB/s, burst 250 kB
	start := time.Now()
	if err := b.Wait(context.Background(), b.lim.Burst()+100_000); err != nil {
		t.Fatal(err)
	}
	// the burst passes at once, the 100 kB beyond it wait about 100 ms on the timer
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("%s for 100 kB beyond the burst at 1 MB/s, want the bucket to make it wait", took)
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
