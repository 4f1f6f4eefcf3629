package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	l := summarize(samples)
	if l.N != 100 || l.Median != 51*time.Millisecond || l.P99 != 100*time.Millisecond {
		t.Fatalf("%+v", l)
	}
	if summarize(nil) != (Latency{}) {
		t.Fatal("empty input")
	}
}

func sampleReport() *Report {
	tp := func(mbps ...float64) []Throughput {
		out := []Throughput{}
		for i, k := range []int{1, 10, 100} {
			out = append(out, Throughput{Streams: k, MBps: mbps[i], Fairness: 0.9})
		}
		return out
	}
	return &Report{
		Settings: settingsFor(true), Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Command: "httvps-bench -quick",
		Machine: Machine{CPUs: 2, CPUModel: "test", MemGiB: 4, Go: "go1.26"},
		Paths: []PathResult{
			{Name: "direct TCP", Throughput: tp(1000, 1000, 1000), TTFB: Latency{N: 5, Median: 100 * time.Microsecond}},
			{Name: nameJSON, Throughput: tp(90, 90, 90), TTFB: Latency{N: 5, Median: 700 * time.Microsecond}},
			{Name: nameBinary, Throughput: tp(200, 200, 200), TTFB: Latency{N: 5, Median: 700 * time.Microsecond}},
			{Name: nameChisel, Throughput: tp(180, 180, 180), TTFB: Latency{N: 5, Median: time.Millisecond}},
			{Name: "broken", Err: errors.New("could not start")},
		},
		Idle:     []IdleMemory{{Sessions: 100, HeapStack: 40 << 10}, {Sessions: 500, HeapStack: 50 << 10}},
		Validate: Validate{Requests: 100, PerSec: 6000, Latency: Latency{P99: 5 * time.Millisecond}},
		UsageErr: errors.New("not selected with -only"),
	}
}

func TestGoals(t *testing.T) {
	r := sampleReport()
	r.Goals = goals(r)
	want := map[string]string{
		"binary mode moves one bulk stream":     "not met",
		"JSON mode reaches at least half":       "not met",
		"with 100 parallel streams":             "met",
		"median time to first byte":             "met",
		"an idle session costs":                 "not met",
		"validate-device serves":                "met",
		"the usage-aggregator ingests at least": "not measured",
	}
	for _, g := range r.Goals {
		status := "not measured"
		if g.Known {
			status = map[bool]string{true: "met", false: "not met"}[g.Met]
		}
		found := false
		for prefix, w := range want {
			if strings.HasPrefix(g.Name, prefix) {
				found = true
				if status != w {
					t.Errorf("%s: %s (%s), want %s", g.Name, status, g.Measured, w)
				}
			}
		}
		if !found {
			t.Errorf("unexpected goal %q", g.Name)
		}
	}
	md := r.Markdown()
	for _, s := range []string{
		"| HTTVPS binary | 200 | 200 | 200 | 0.90 |",
		"| broken | not measured: could not start |",
		"| 500 | 50.0 KiB |",
		"| the usage-aggregator ingests at least 20,000 usage reports/s |  | ≥ 20,000/s | not measured |",
		"### What limits the goals not met",
		"- Command: `httvps-bench -quick`",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
}
