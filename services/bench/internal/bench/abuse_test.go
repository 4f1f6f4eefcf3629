package bench

import (
	"errors"
	"strings"
	"testing"
)

func abuseReport() *Report {
	r := sampleReport()
	r.AbuseSettings = abuseSettingsFor(false)
	r.Abuse = Abuse{
		Preface: Preface{Conns: 5000, HeapStack: 20 << 10, Goroutines: 1, Closed: 5000, TimedOut: 5000, HelloTimeout: r.HelloTimeout,
			Sites: []SiteCost{{Site: "crypto/tls.Server", Bytes: 1024}}},
		Flood: Flood{Sessions: 100, StreamsPerSession: 64, Opened: 3000, RefusedMemory: 3400, Budget: 128 << 20, MaxHeapStack: 160 << 20, MaxCharged: 120 << 20},
		Churn: Churn{Sessions: 2, Alone: Throughput{MBps: 100}, WithChurn: Throughput{MBps: 85}, After: Throughput{MBps: 100}, Refused: 900, RateRefusals: 900},
		Baselines: []Baseline{
			{Scenario: scenarioPreface, Goroutines: 24, FDs: 15, AfterGoroutines: 23, AfterFDs: 15},
			{Scenario: scenarioFlood, Goroutines: 24, FDs: 15, AfterGoroutines: 30, AfterFDs: 15},
			{Scenario: scenarioChurn, Err: errors.New("child gone")},
		},
	}
	return r
}

func TestAbuseGoals(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Abuse)
		goal   string
		want   string
	}{
		{"stalled upgrades within 24 KiB, all closed", func(*Abuse) {}, "a connection that upgraded", "met"},
		{"stalled upgrades over 24 KiB", func(a *Abuse) { a.Preface.HeapStack = 25 << 10 }, "a connection that upgraded", "not met"},
		{"a stalled upgrade left open", func(a *Abuse) { a.Preface.Closed = 4999 }, "a connection that upgraded", "not met"},
		{"stalled upgrades not measured", func(a *Abuse) { a.PrefaceErr = errors.New("no") }, "a connection that upgraded", "not measured"},
		{"flood over budget + 10%", func(*Abuse) {}, "1-byte frames", "not met"},
		{"flood within budget + 10%", func(a *Abuse) { a.Flood.MaxHeapStack = 140 << 20 }, "1-byte frames", "met"},
		{"flood charged over the budget", func(a *Abuse) { a.Flood.MaxHeapStack, a.Flood.MaxCharged = 100<<20, 129<<20 }, "1-byte frames", "not met"},
		{"churn keeps 0.85×", func(*Abuse) {}, "stream_open/abort churn", "met"},
		{"churn drops bulk to 0.75×", func(a *Abuse) { a.Churn.WithChurn.MBps = 75 }, "stream_open/abort churn", "not met"},
		{"churn marks a node down", func(a *Abuse) { a.Churn.NodeDown = 1 }, "stream_open/abort churn", "not met"},
		{"a scenario leaves goroutines", func(*Abuse) {}, "goroutines and file descriptors", "not met"},
		{"every scenario back at baseline", func(a *Abuse) { a.Baselines = a.Baselines[:1] }, "goroutines and file descriptors", "met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := abuseReport()
			tt.change(&r.Abuse)
			for _, g := range goals(r) {
				if !strings.HasPrefix(g.Name, tt.goal) {
					continue
				}
				if status := goalStatus(g); status != tt.want {
					t.Fatalf("%s: %s (%s), want %s", g.Name, status, g.Measured, tt.want)
				}
				return
			}
			t.Fatalf("no goal %q", tt.goal)
		})
	}
}

func TestAbuseMarkdown(t *testing.T) {
	markdownHas(t, abuseReport().Markdown(),
		"## The gateway under abuse",
		"`HTTVPS_GATEWAY_MEMORY` = 128 MiB",
		"per-address cap (`HTTVPS_GATEWAY_MAX_SESSIONS_PER_ADDRESS`) and the handshake cap (`HTTVPS_GATEWAY_MAX_HANDSHAKES`) are turned off",
		"20.0 KiB heap + stacks and 1.0 goroutines per connection; the gateway closed 5000 of 5000",
		"100 sessions × 64 streams (not 256:",
		"3000 streams opened, 3400 refused with `LIMIT_REACHED memory`",
		"900 refused with `LIMIT_REACHED stream_open_rate` (gateway counter: 900)",
		"| `crypto/tls.Server` | 1.0 KiB |",
		"| "+scenarioFlood+" | 24 → 30 | 15 → 15 | **no** |",
		"| "+scenarioChurn+" | not measured: child gone | | |",
	)
}
