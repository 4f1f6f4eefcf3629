package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the run happened.
type Machine struct {
	CPUs     int
	CPUModel string
	MemGiB   float64
	Kernel   string
	Go       string
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
				m.MemGiB = kb / (1 << 20)
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// Goal is one target of docs/benchmarks.md, judged from this run.
type Goal struct {
	Name     string
	Measured string
	Target   string
	Met      bool
	Known    bool
	Limits   string
}

func goals(r *Report) []Goal {
	bin, okBin := r.path(nameBinary)
	js, okJSON := r.path(nameJSON)
	ch, okChisel := r.path(nameChisel)
	var out []Goal

	g := Goal{Name: "binary mode moves one bulk stream at least 1.2× chisel on the same path", Target: "≥ 1.20×"}
	if okBin && okChisel {
		b, _ := bin.rate(1)
		c, _ := ch.rate(1)
		ratio := b.MBps / c.MBps
		g.Known, g.Met = true, ratio >= 1.2
		g.Measured = fmt.Sprintf("%.2f× (%.0f vs %.0f MB/s)", ratio, b.MBps, c.MBps)
		g.Limits = cpuLimits(b.CPU)
	}
	out = append(out, g)

	g = Goal{Name: "JSON mode reaches at least half of binary mode (one bulk stream)", Target: "≥ 0.50×"}
	if okBin && okJSON {
		b, _ := bin.rate(1)
		j, _ := js.rate(1)
		ratio := j.MBps / b.MBps
		g.Known, g.Met = true, ratio >= 0.5
		g.Measured = fmt.Sprintf("%.2f× (%.0f vs %.0f MB/s)", ratio, j.MBps, b.MBps)
		g.Limits = "base64 and JSON framing cost CPU on both ends: " + cpuLimits(j.CPU)
	}
	out = append(out, g)

	g = Goal{Name: "with 100 parallel streams the slowest gets at least half the fastest's rate (binary mode)", Target: "≥ 0.50"}
	if okBin {
		if t, ok := bin.rate(100); ok {
			g.Known, g.Met = true, t.Fairness >= 0.5
			g.Measured = fmt.Sprintf("%.2f", t.Fairness)
			if okJSON {
				if tj, ok := js.rate(100); ok {
					g.Measured += fmt.Sprintf(" (JSON mode %.2f)", tj.Fairness)
				}
			}
			g.Limits = "per-stream credit (flow_control) decides the share each stream gets of the session's single WebSocket"
		}
	}
	out = append(out, g)

	g = Goal{Name: "median time to first byte no worse than chisel's (binary mode)", Target: "≤ 1.00× chisel"}
	if okBin && okChisel && ch.TTFB.Median > 0 {
		ratio := float64(bin.TTFB.Median) / float64(ch.TTFB.Median)
		g.Known, g.Met = true, ratio <= 1
		g.Measured = fmt.Sprintf("%.2f× (%s vs %s)", ratio, round(bin.TTFB.Median), round(ch.TTFB.Median))
		g.Limits = "a new stream costs one stream_open frame, the gateway's dial of the Shadowsocks node and ss-server's dial of the target"
	}
	out = append(out, g)

	g = Goal{Name: "an idle session costs the gateway at most 48 KiB", Target: "≤ 48 KiB"}
	if r.IdleErr == nil && len(r.Idle) > 0 {
		worst := r.Idle[0]
		for _, m := range r.Idle {
			if m.HeapStack > worst.HeapStack {
				worst = m
			}
		}
		g.Known, g.Met = true, worst.HeapStack <= 48<<10
		g.Measured = fmt.Sprintf("%.1f KiB heap+stacks per session (at %d sessions)", worst.HeapStack/1024, worst.Sessions)
		var sites []string
		for _, s := range worst.Sites[:min(4, len(worst.Sites))] {
			sites = append(sites, fmt.Sprintf("%s %.1f KiB", s.Site, s.Bytes/1024))
		}
		g.Limits = "largest gateway allocations per idle session: " + strings.Join(sites, "; ")
	}
	out = append(out, g)

	g = Goal{Name: "validate-device serves at least 5,000 requests/s with p99 under 10 ms", Target: "≥ 5,000/s, p99 < 10 ms"}
	if r.ValidateErr == nil && r.Validate.Requests > 0 {
		g.Known = true
		g.Met = r.Validate.PerSec >= 5000 && r.Validate.Latency.P99 < 10*time.Millisecond
		g.Measured = fmt.Sprintf("%.0f/s, p99 %s", r.Validate.PerSec, round(r.Validate.Latency.P99))
		g.Limits = fmt.Sprintf("accounts, the NATS server, PostgreSQL and the %d callers share %d CPUs; ", validateParallel, r.Machine.CPUs) + cpuLimits(r.Validate.CPU)
	}
	out = append(out, g)

	g = Goal{Name: "the usage-aggregator ingests at least 20,000 usage reports/s", Target: "≥ 20,000/s"}
	if r.UsageErr == nil && r.Usage.Reports > 0 {
		g.Known, g.Met = true, r.Usage.PerSec >= 20000
		g.Measured = fmt.Sprintf("%.0f/s", r.Usage.PerSec)
		g.Limits = "one durable consumer, one transaction per batch, PostgreSQL with fsync on; " + cpuLimits(r.Usage.CPU)
	}
	out = append(out, g)
	return out
}

func cpuLimits(shares []CPUShare) string {
	var parts []string
	for _, s := range shares {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s.Name, s.Percent))
	}
	return "CPU in % of one core during the run: " + strings.Join(parts, ", ")
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// Markdown renders the report as docs/benchmarks.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Written by `httvps-bench` (`make bench`, source in `services/client/cmd/httvps-bench`). ")
	w("Every number comes from the one run described here, on one machine, with everything on 127.0.0.1; ")
	w("the goals below are ratios within that run. Run it again on your hardware for your numbers.\n\n")
	w("- Date: %s (took %s)\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	w("- Command: `%s`\n", r.Command)
	w("- Machine: %d CPUs (%s), %.1f GiB memory, Linux %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemGiB, r.Machine.Kernel, r.Machine.Go)
	mode := "full run"
	if r.Quick {
		mode = "quick smoke run (-quick): short windows and few samples, not for comparison"
	}
	w("- Settings: %s; each throughput figure counts bytes over %s after %s of warm-up; time to first byte from %d sequential streams at most\n\n",
		mode, r.Window, r.Warmup, r.TTFBSamples)

	w("## Data paths\n\n")
	w("Each stream downloads from the same target process (an endless stream of bytes; a one-byte answer for time to first byte). ")
	w("MB/s is 10^6 bytes per second summed over the streams. Fairness is the slowest stream's bytes divided by the fastest's. ")
	w("Time to first byte runs from opening the stream to the first byte of the answer. ")
	w("Both HTTVPS modes negotiate flow_control; each uses one session for all its streams, as chisel uses one connection. ")
	w("The gateways run their default settings, except the row \"%s\" (HTTVPS_GATEWAY_STREAM_WINDOW=%d), which shows what the stream window costs a single stream.\n\n", nameLargeWindow, largeWindow)
	w("| path | 1 stream MB/s | 10 streams MB/s | 100 streams MB/s | fairness at 100 | first byte median | first byte p99 |\n")
	w("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Paths {
		if p.Err != nil {
			w("| %s | not measured: %s | | | | | |\n", p.Name, oneLine(p.Err))
			continue
		}
		cells := make([]string, 0, 3)
		for _, k := range []int{1, 10, 100} {
			if t, ok := p.rate(k); ok {
				cells = append(cells, fmt.Sprintf("%.0f", t.MBps))
			} else {
				cells = append(cells, "–")
			}
		}
		fair := "–"
		if t, ok := p.rate(100); ok {
			fair = fmt.Sprintf("%.2f", t.Fairness)
		}
		w("| %s | %s | %s | %s | %s |\n", p.Name, strings.Join(cells, " | "), fair, round(p.TTFB.Median), round(p.TTFB.P99))
	}
	w("\nPaths:\n\n")
	for _, p := range r.Paths {
		if p.Err == nil {
			w("- %s: %s\n", p.Name, p.Note)
		}
	}
	w("\nCPU used while one bulk stream ran (percent of one core; the machine has %d):\n\n", r.Machine.CPUs)
	w("| path | processes |\n|---|---|\n")
	for _, p := range r.Paths {
		if t, ok := p.rate(1); ok && p.Err == nil {
			var parts []string
			for _, s := range t.CPU {
				parts = append(parts, fmt.Sprintf("%s %.0f%%", s.Name, s.Percent))
			}
			w("| %s | %s |\n", p.Name, strings.Join(parts, ", "))
		}
	}

	w("\n## Gateway memory per idle session\n\n")
	w("A gateway in its own process; sessions finish hello (binary + flow_control) and stay idle. ")
	w("Per session = (gateway memory with the sessions − memory before) / sessions, after a forced garbage collection. ")
	w("RSS can be lower than the heap: buffers that are allocated but never written are not resident.\n\n")
	if r.IdleErr != nil {
		w("Not measured: %s\n\n", oneLine(r.IdleErr))
	}
	if len(r.Idle) > 0 {
		w("| sessions | heap + goroutine stacks | heap | process RSS |\n|---:|---:|---:|---:|\n")
		for _, m := range r.Idle {
			w("| %d | %.1f KiB | %.1f KiB | %.1f KiB |\n", m.Sessions, m.HeapStack/1024, m.Heap/1024, m.RSS/1024)
		}
		last := r.Idle[len(r.Idle)-1]
		if len(last.Sites) > 0 {
			w("\nWhere the heap of an idle session goes (allocation sites at %d sessions, every allocation sampled):\n\n", last.Sessions)
			w("| allocation site | per session |\n|---|---:|\n")
			for _, s := range last.Sites {
				w("| `%s` | %.1f KiB |\n", s.Site, s.Bytes/1024)
			}
		}
	}

	w("\n## Control plane\n\n| measurement | result |\n|---|---|\n")
	if r.ValidateErr != nil {
		w("| validate-device | not measured: %s |\n", oneLine(r.ValidateErr))
	} else {
		w("| validate-device (real accounts service and PostgreSQL, %d parallel callers over NATS, %d requests) | %.0f requests/s, p50 %s, p99 %s |\n",
			validateParallel, r.Validate.Requests, r.Validate.PerSec, round(r.Validate.Latency.Median), round(r.Validate.Latency.P99))
	}
	if r.UsageErr != nil {
		w("| usage reports | not measured: %s |\n", oneLine(r.UsageErr))
	} else {
		w("| usage reports (%d in the USAGE stream before the usage-aggregator starts, %d sessions; time until all are committed to PostgreSQL and acknowledged) | %.0f reports/s |\n",
			r.Usage.Reports, r.UsageSessions, r.Usage.PerSec)
	}
	w("\nPostgreSQL is a local cluster with default settings (fsync on); accounts, node-registry and the usage-aggregator run in the benchmark process, as in `make run`.\n")

	w("\n## Goals\n\n| goal | measured | target | status |\n|---|---|---|---|\n")
	for _, g := range r.Goals {
		status := "not measured"
		if g.Known && g.Met {
			status = "met"
		} else if g.Known {
			status = "**not met**"
		}
		w("| %s | %s | %s | %s |\n", g.Name, g.Measured, g.Target, status)
	}
	var unmet []Goal
	for _, g := range r.Goals {
		if g.Known && !g.Met {
			unmet = append(unmet, g)
		}
	}
	if len(unmet) > 0 {
		w("\n### What limits the goals not met\n\n")
		for _, g := range unmet {
			w("- %s: %s.\n", g.Name, g.Limits)
		}
	}
	return b.String()
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
