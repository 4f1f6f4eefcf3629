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
			out = append(out, Throughput{Streams: k, MBps: mbps[i], Fairness: 0.9, Bytes: int64(mbps[i] * 2e6), Seconds: 2,
				CPU: []CPUShare{{Name: nameClient, Percent: 50}, {Name: nameGateway, Percent: 50}, {Name: nameChiselClient, Percent: 60}, {Name: nameChiselServer, Percent: 60}}})
		}
		return out
	}
	ms := func(f float64) Latency {
		return Latency{N: 5, Median: time.Duration(f * float64(time.Millisecond)), P99: 2 * time.Duration(f*float64(time.Millisecond))}
	}
	return &Report{
		Settings: settingsFor(true), Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Command: "httvps-bench -quick", ClientArgs: "httvps-client",
		Machine: Machine{CPUs: 2, CPUModel: "test", MemGiB: 4, Go: "go1.26"},
		Paths: []PathResult{
			{Name: nameDirect, Throughput: tp(1000, 1000, 1000), TTFB: ms(0.1)},
			{Name: nameSS, Throughput: tp(300, 300, 300), TTFB: ms(1), Tunnel: []string{nameSSLocal}},
			{Name: nameChisel, Throughput: tp(100, 100, 100), TTFB: ms(2), Tunnel: []string{nameChiselClient, nameChiselServer}},
			{Name: nameDefaults, Throughput: tp(250, 250, 250), TTFB: ms(1.4), Tunnel: []string{nameClient, nameGateway}},
			{Name: nameJSON, Throughput: tp(100, 100, 100), TTFB: ms(1.4), Tunnel: []string{nameClient, nameGateway}},
			{Name: "broken", Err: errors.New("could not start")},
		},
		Idle:     []IdleMemory{{Sessions: 100, HeapStack: 40 << 10}, {Sessions: 500, HeapStack: 50 << 10}},
		Validate: Validate{Requests: 100, PerSec: 6000, Latency: Latency{P99: 5 * time.Millisecond}},
		Echo:     Validate{Requests: 100, PerSec: 12000},
		UsageErr: errors.New("not selected with -only"),
		QuotaErr: errors.New("not selected with -only"),
		UDP: []UDPResult{
			{Name: nameUDPSS, RTT: ms(0.1), Rate: 10000, Sent: 30000},
			{Name: nameUDPHTTVPS, RTT: ms(0.3), Rate: 6000, Sent: 18000, Lost: 3},
		},
	}
}

func TestGoals(t *testing.T) {
	r := sampleReport()
	r.Goals = goals(r)
	want := map[string]string{
		"first byte median":                  "met",
		"one bulk stream":                    "met",
		"JSON-only (spec) mode":              "not met",
		"100 parallel streams":               "met",
		"httvps-client + gateway CPU per GB": "met",
		"an idle session costs":              "not met",
		"UDP echo round trip":                "not met",
		"UDP datagrams/s":                    "met",
		"a connection that upgraded":         "not measured",
		"1-byte frames":                      "not measured",
		"stream_open/abort churn":            "not measured",
		"goroutines and file descriptors":    "not measured",
		"quota overshoot, one session":       "not measured",
		"quota overshoot, four sessions":     "not measured",
		"a 40 Mbit/s plan measures":          "not measured",
		"the speed limit adds no latency":    "not measured",
	}
	for _, g := range r.Goals {
		status := goalStatus(g)
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
	markdownHas(t, r.Markdown(),
		"| HTTVPS, client defaults | 1.4ms | 2.8ms | 250 | 250 | 250 | 0.90 | 4.00 s |",
		"| broken | not measured: could not start |",
		"| 500 | 50.0 KiB |",
		"6000/s, p50 0s, p99 5ms | bare NATS micro echo, same callers, same reply size: 12000/s",
		"| 0.50× |",
		"| usage reports | not measured: not selected with -only |",
		"### What limits the goals not met",
		"| HTTVPS UDP, client defaults | 300µs | 600µs | 6000 | 3 of 18000 |",
		"- \"Client defaults\" runs `httvps-client` (its defaults",
	)
}

// goalStatus is a goal's status column without the Markdown emphasis.
func goalStatus(g Goal) string {
	if !g.Known {
		return "not measured"
	}
	return map[bool]string{true: "met", false: "not met"}[g.Met]
}

// markdownHas fails t for every line of want that md lacks.
func markdownHas(t testing.TB, md string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
}

func TestCPUPerGB(t *testing.T) {
	tp := Throughput{Bytes: 2e9, Seconds: 4, CPU: []CPUShare{{Name: "a", Percent: 50}, {Name: "b", Percent: 100}, {Name: "c", Percent: 100}}}
	if got := tp.CPUPerGB([]string{"a", "b"}); got != 3 {
		t.Fatalf("CPUPerGB = %v, want 3 core-seconds per GB", got)
	}
	if got := (Throughput{}).CPUPerGB([]string{"a"}); got != 0 {
		t.Fatalf("no bytes: %v", got)
	}
}
