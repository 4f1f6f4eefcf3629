package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestQuotaBound(t *testing.T) {
	tests := []struct {
		name  string
		limit int64
		want  int64
	}{
		{"50 MB: 0.5% is 250 kB, the 1 MiB floor applies", 50e6, 1 << 20},
		{"1 GB: 0.5% is 5 MB", 1e9, 5e6},
		{"just above the crossover", 210e6, 1.05e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quotaBound(tt.limit); got != tt.want {
				t.Fatalf("quotaBound(%d) = %d, want %d", tt.limit, got, tt.want)
			}
		})
	}
}

// settled is a case that ended cleanly: every session told and ended by the quota.
func settled(limit int64, sessions int, delivered, charged int64) QuotaCase {
	return QuotaCase{Limit: limit, Sessions: sessions, Gateways: min(sessions, 2), Delivered: delivered, Charged: charged,
		Settled: true, Told: sessions, Ended: sessions, Rows: sessions, Took: time.Second}
}

func TestQuotaCaseJudged(t *testing.T) {
	tests := []struct {
		name      string
		c         QuotaCase
		overshoot int64
		problem   string
	}{
		{"exact: charged equals the limit", settled(50e6, 1, 49_900_000, 50e6), 0, ""},
		{"delivered counts when above the charge", settled(50e6, 4, 50_000_100, 50e6), 100, ""},
		{"at the bound", settled(50e6, 1, 0, 50e6+1<<20), 1 << 20, ""},
		{"one byte over the bound", settled(50e6, 1, 0, 50e6+1<<20+1), 1<<20 + 1, "over the 50 MB limit"},
		{"0.5% of 1 GB allowed", settled(1e9, 4, 1e9, 1e9+4e6), 4e6, ""},
		{"under by less than the bound", settled(50e6, 1, 49e6, 49.5e6), -500_000, ""},
		{"cut early by more than the bound", settled(50e6, 1, 40e6, 40e6), -10e6, "cut 9.54 MiB before the 50 MB limit"},
		{"a client not told", func() QuotaCase { c := settled(50e6, 4, 50e6, 50e6); c.Told = 3; return c }(), 0, "3 of 4 clients told"},
		{"a session row not ended by the quota", func() QuotaCase { c := settled(50e6, 4, 50e6, 50e6); c.Ended = 3; return c }(), 0, "3 of 4 session rows"},
		{"an extra session row", func() QuotaCase { c := settled(50e6, 1, 50e6, 50e6); c.Rows, c.Ended = 2, 2; return c }(), 0, "2 of 2 session rows"},
		{"final reports not landed", func() QuotaCase { c := settled(50e6, 1, 50e6, 50e6); c.Settled = false; return c }(), 0, "did not land"},
		{"not measured", QuotaCase{Limit: 50e6, Sessions: 1, Err: errors.New("boom")}, -50e6, "not measured: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Overshoot(); got != tt.overshoot {
				t.Errorf("Overshoot = %d, want %d", got, tt.overshoot)
			}
			p := strings.Join(tt.c.problems(), "; ")
			if tt.problem == "" && p != "" || !strings.Contains(p, tt.problem) {
				t.Errorf("problems = %q, want %q", p, tt.problem)
			}
			if tt.c.met() != (tt.problem == "") {
				t.Errorf("met = %v with problems %q", tt.c.met(), p)
			}
		})
	}
}

func TestQuotaGoals(t *testing.T) {
	tests := []struct {
		name      string
		cases     []QuotaCase
		err       error
		one, four string
	}{
		{"all within", []QuotaCase{settled(50e6, 1, 50e6, 50e6), settled(50e6, 4, 50e6, 50e6), settled(1e9, 1, 1e9, 1e9), settled(1e9, 4, 1e9, 1e9+1e6)}, nil, "met", "met"},
		{"four sessions over at 1 GB", []QuotaCase{settled(50e6, 1, 50e6, 50e6), settled(50e6, 4, 50e6, 50e6), settled(1e9, 4, 1e9, 1e9+6e6)}, nil, "met", "not met"},
		{"one case not measured fails its goal", []QuotaCase{settled(50e6, 1, 50e6, 50e6), {Limit: 1e9, Sessions: 1, Err: errors.New("boom")}}, nil, "not met", "not measured"},
		{"part not run", nil, errors.New("not selected with -only"), "not measured", "not measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Quota: Quota{Cases: tt.cases}, QuotaErr: tt.err}
			g := quotaGoals(r)
			for i, want := range []string{tt.one, tt.four} {
				if status := goalStatus(g[i]); status != want {
					t.Errorf("%s: %s (%s; %s), want %s", g[i].Name, status, g[i].Measured, g[i].Limits, want)
				}
			}
		})
	}
}

func TestQuotaMarkdown(t *testing.T) {
	r := sampleReport()
	r.QuotaErr, r.QuotaSettings = nil, quotaSettingsFor(true)
	over := settled(50e6, 4, 50e6, 50e6+2<<20)
	over.Took = 500 * time.Millisecond
	short := settled(1e9, 1, 1e9, 1e9+1)
	short.Took = 500 * time.Millisecond
	r.Quota = Quota{LeaseBytes: 8 << 20, UsageInterval: 10 * time.Second, Reference: Throughput{MBps: 200},
		Cases: []QuotaCase{settled(50e6, 1, 49_999_000, 50e6), over, short},
		Speed: SpeedLimit{Mbps: 40, Limited: Throughput{MBps: 5}, Free: Throughput{MBps: 300},
			LimitedTTFB: Latency{Median: time.Millisecond, P99: 2 * time.Millisecond}, TTFB: Latency{Median: time.Millisecond, P99: 3 * time.Millisecond}}}
	r.Goals = goals(r)
	markdownHas(t, r.Markdown(),
		"| 50 MB | 1 | 1 MiB | 49999000 | 50000000 | +0 B | 1 of 1 | 1 of 1 | 50 MB/s (0.25× without a limit) | 500 MB (10.0× the limit) |",
		"| 50 MB | 4 on 2 gateways | 1 MiB | 50000000 | 52097152 | +2.00 MiB | 4 of 4 | 4 of 4 | 100 MB/s | 1000 MB (20.0× the limit) |",
		"| 1 GB | 1 | 5 MB = 0.5% | 1000000000 | 1000000001 | +1 B | 1 of 1 | 1 of 1 | 2000 MB/s | 20000 MB (20.0× the limit) |",
		"`HTTVPS_GATEWAY_LEASE_BYTES` at its default, 8.00 MiB",
		"200 MB/s over 1s",
		"| `speed_limit_mbps: 40` | 40.00 Mbit/s | 1ms | 2ms |",
		"| no limit | 300 MB/s | 1ms | 3ms |",
		"| quota overshoot, one session ≤ max(1 MiB, 0.5% of the limit) | 50 MB: +0 B (bound 1 MiB, 1 of 1 told LIMIT_REACHED); 1 GB: +1 B (bound 5 MB = 0.5%, 1 of 1 told LIMIT_REACHED) |",
		"- quota overshoot, four sessions of one user on two gateways ≤ max(1 MiB, 0.5% of the limit): 50 MB: +2.00 MiB over the 50 MB limit, bound 1 MiB.",
	)
}

func TestSpeedGoals(t *testing.T) {
	ms := func(d float64) time.Duration { return time.Duration(d * float64(time.Millisecond)) }
	tests := []struct {
		name        string
		speed       SpeedLimit
		rate, quiet string
	}{
		{"within 5% and no added latency", SpeedLimit{Mbps: 40, Limited: Throughput{MBps: 5.1}, Free: Throughput{MBps: 300},
			LimitedTTFB: Latency{Median: ms(1.05)}, TTFB: Latency{Median: ms(1)}}, "met", "met"},
		{"too fast and slower to answer", SpeedLimit{Mbps: 40, Limited: Throughput{MBps: 5.3}, Free: Throughput{MBps: 300},
			LimitedTTFB: Latency{Median: ms(1.2)}, TTFB: Latency{Median: ms(1)}}, "not met", "not met"},
		{"too slow", SpeedLimit{Mbps: 40, Limited: Throughput{MBps: 4.7}, LimitedTTFB: Latency{Median: ms(1)}, TTFB: Latency{Median: ms(1)}}, "not met", "met"},
		{"failed", SpeedLimit{Mbps: 40, Err: errors.New("boom")}, "not measured", "not measured"},
		{"not run", SpeedLimit{}, "not measured", "not measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := speedGoals(&Report{Quota: Quota{Speed: tt.speed}})
			for i, want := range []string{tt.rate, tt.quiet} {
				if status := goalStatus(g[i]); status != want {
					t.Errorf("%s: %s (%s), want %s", g[i].Name, status, g[i].Measured, want)
				}
			}
		})
	}
}
