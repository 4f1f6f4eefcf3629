package bench

import (
	"context"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const readBuffer = 64 << 10

// Throughput is what k parallel bulk streams moved in the measured window.
type Throughput struct {
	Streams int
	// MBps is the total rate in MB/s (10^6 bytes).
	MBps float64
	// Fairness is the slowest stream's rate divided by the fastest's.
	Fairness float64
	// CPU is the share of one core each process of the path used in the window.
	CPU []CPUShare
	// Bytes moved in Seconds of window.
	Bytes   int64
	Seconds float64
}

// CPUPerGB is the core-seconds the named processes spent per 10^9 bytes moved.
func (t Throughput) CPUPerGB(names []string) float64 {
	if t.Bytes == 0 {
		return 0
	}
	var pct float64
	for _, s := range t.CPU {
		if slices.Contains(names, s.Name) {
			pct += s.Percent
		}
	}
	return pct / 100 * t.Seconds / (float64(t.Bytes) / 1e9)
}

// measureThroughput opens k streams that each download without end, lets them run for warmup,
// then counts the bytes of each over window.
func measureThroughput(ctx context.Context, p Path, k int, warmup, window time.Duration) (Throughput, error) {
	conns := make([]net.Conn, 0, k)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range k {
		c, err := p.Open(ctx)
		if err != nil {
			return Throughput{}, fmt.Errorf("%s: open stream: %w", p.Name, err)
		}
		conns = append(conns, c)
		if err := request(c, 0); err != nil {
			return Throughput{}, fmt.Errorf("%s: request: %w", p.Name, err)
		}
	}
	counts := make([]atomic.Int64, k)
	var failed atomic.Pointer[error]
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			buf := make([]byte, readBuffer)
			for !stop.Load() {
				n, err := c.Read(buf)
				counts[i].Add(int64(n))
				if err != nil {
					if !stop.Load() {
						e := fmt.Errorf("%s: stream %d: %w", p.Name, i, err)
						failed.CompareAndSwap(nil, &e)
					}
					return
				}
			}
		})
	}
	pause.For(ctx, warmup)
	before := snapshot(counts)
	cpu := watchCPU(p.Procs)
	start := time.Now()
	pause.For(ctx, window)
	after := snapshot(counts)
	elapsed := time.Since(start)
	shares := cpu.stop()
	stop.Store(true)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		return Throughput{}, *e
	}
	if err := ctx.Err(); err != nil {
		return Throughput{}, err
	}
	var total int64
	lo, hi := int64(-1), int64(0)
	for i := range after {
		d := after[i] - before[i]
		total += d
		hi = max(hi, d)
		if lo < 0 || d < lo {
			lo = d
		}
	}
	t := Throughput{Streams: k, MBps: float64(total) / elapsed.Seconds() / 1e6, CPU: shares, Bytes: total, Seconds: elapsed.Seconds()}
	if hi > 0 {
		t.Fairness = float64(lo) / float64(hi)
	}
	return t, nil
}

func snapshot(counts []atomic.Int64) []int64 {
	out := make([]int64, len(counts))
	for i := range counts {
		out[i] = counts[i].Load()
	}
	return out
}

// Latency is a distribution summary.
type Latency struct {
	N      int
	Median time.Duration
	P99    time.Duration
}

func summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return Latency{N: len(s), Median: s[len(s)/2], P99: s[min(len(s)-1, len(s)*99/100)]}
}

// measureTTFB opens streams one after another and times each from the open to the first byte
// of a one-byte answer; at most samples streams and at most budget.
func measureTTFB(ctx context.Context, p Path, samples int, budget time.Duration) (Latency, error) {
	deadline := time.Now().Add(budget)
	out := make([]time.Duration, 0, samples)
	var one [1]byte
	for len(out) < samples && time.Now().Before(deadline) {
		start := time.Now()
		c, err := p.Open(ctx)
		if err != nil {
			return Latency{}, fmt.Errorf("%s: open stream: %w", p.Name, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(dialTimeout))
		err = request(c, 1)
		if err == nil {
			_, err = io.ReadFull(c, one[:])
		}
		elapsed := time.Since(start)
		c.Close()
		if err != nil {
			return Latency{}, fmt.Errorf("%s: first byte: %w", p.Name, err)
		}
		out = append(out, elapsed)
	}
	return summarize(out), nil
}
