package bench

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the report as docs/benchmarks.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Written by `httvps-bench` (`make bench`, source in `services/bench`). ")
	w("Every number comes from the one run described here, on one machine, with everything on 127.0.0.1; ")
	w("the goals below are ratios within that run. Run it again on your hardware for your numbers.\n\n")
	w("- Date: %s (took %s)\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	w("- Command: `%s`\n", r.Command)
	w("- Machine: %d CPUs (%s), %.1f GiB memory, Linux %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemGiB, r.Machine.Kernel, r.Machine.Go)
	mode := "full run"
	if r.Quick {
		mode = "quick smoke run (-quick): short windows and few samples, not for comparison"
	}
	w("- Settings: %s; each throughput figure counts bytes over %s after %s of warm-up; first byte from at most %d new connections in %s\n",
		mode, r.Window, r.Warmup, r.TTFBSamples, r.TTFBBudget)
	w("- \"Client defaults\" runs `%s` (its defaults: binary frames, flow control, stream confirmation)\n\n", r.ClientArgs)
	r.pathsMarkdown(w)
	r.udpMarkdown(w)
	r.idleMarkdown(w)
	r.controlMarkdown(w)
	r.quotaMarkdown(w)
	r.abuseMarkdown(w)
	r.goalsMarkdown(w)
	return b.String()
}

func (r *Report) pathsMarkdown(w func(string, ...any)) {
	w("## The path users run\n\n")
	w("Every path is separate processes. The benchmark process holds only the SOCKS5 client and the target. ")
	w("The SOCKS5 client opens a new TCP connection for every request and every stream, does the greeting and the CONNECT as curl does, ")
	w("and sends its request to the target right after the SOCKS reply (it speaks first, like HTTP and TLS clients); the target then streams bytes. ")
	w("First byte runs from the TCP connect to the first byte of the answer. MB/s is 10^6 bytes per second summed over the streams; ")
	w("fairness is the slowest stream's bytes over the fastest's. Tunnel CPU per GB is the core-seconds the tunnel's own processes ")
	w("(httvps-client + gateway, chisel client + server, ss-local) spent per 10^9 bytes of the one-stream run.\n\n")
	w("| path | first byte median | first byte p99 | 1 stream MB/s | 10 streams MB/s | 100 streams MB/s | fairness at 100 | tunnel CPU per GB |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Paths {
		if p.Err != nil {
			w("| %s | not measured: %s | | | | | | |\n", p.Name, oneLine(p.Err))
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
		fair, perGB := "–", "–"
		if t, ok := p.rate(100); ok {
			fair = fmt.Sprintf("%.2f", t.Fairness)
		}
		if t, ok := p.rate(1); ok && len(p.Tunnel) > 0 {
			perGB = fmt.Sprintf("%.2f s", t.CPUPerGB(p.Tunnel))
		}
		w("| %s | %s | %s | %s | %s | %s |\n", p.Name, round(p.TTFB.Median), round(p.TTFB.P99), strings.Join(cells, " | "), fair, perGB)
	}
	w("\nPaths:\n\n")
	for _, p := range r.Paths {
		if p.Err == nil {
			w("- %s: %s\n", p.Name, p.Note)
		}
	}
	w("\nCPU per process while one bulk stream ran, from /proc of each process (percent of one core; the machine has %d):\n\n", r.Machine.CPUs)
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
}

func (r *Report) idleMarkdown(w func(string, ...any)) {
	w("\n## Gateway memory per idle session\n\n")
	w("A gateway in its own process; sessions finish hello with the client's defaults and stay idle. ")
	w("All come from 127.0.0.1, so the gateway's per-address and handshake caps are off (0) here. ")
	w("Per session = (gateway memory with the sessions − memory before) / sessions, after a forced garbage collection. ")
	w("RSS can be lower than the heap: buffers that are allocated but never written are not resident.\n\n")
	if r.IdleErr != nil {
		w("Not measured: %s\n\n", oneLine(r.IdleErr))
	}
	if len(r.Idle) == 0 {
		return
	}
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

func (r *Report) controlMarkdown(w func(string, ...any)) {
	w("\n## Control plane, against same-run references\n\n| measurement | result | reference in the same run | ratio |\n|---|---|---|---:|\n")
	if r.ValidateErr != nil {
		w("| validate-device | not measured: %s | | |\n", oneLine(r.ValidateErr))
	} else {
		w("| validate-device: real accounts service and PostgreSQL, %d parallel callers over NATS, %d requests | %.0f/s, p50 %s, p99 %s | bare NATS micro echo, same callers, same reply size: %.0f/s, p50 %s, p99 %s | %.2f× |\n",
			validateParallel, r.Validate.Requests, r.Validate.PerSec, round(r.Validate.Latency.Median), round(r.Validate.Latency.P99),
			r.Echo.PerSec, round(r.Echo.Latency.Median), round(r.Echo.Latency.P99), ratio(r.Validate.PerSec, r.Echo.PerSec))
	}
	if r.UsageErr != nil {
		w("| usage reports | not measured: %s | | |\n", oneLine(r.UsageErr))
	} else {
		w("| usage reports: %d in the USAGE stream (%d sessions) before the usage-aggregator starts, until all are committed and acknowledged | %.0f reports/s | the same rows as multi-row INSERTs into a plain table of the same PostgreSQL, one transaction per batch: %.0f rows/s | %.2f× |\n",
			r.Usage.Reports, r.UsageSessions, r.Usage.PerSec, r.Insert.PerSec, ratio(r.Usage.PerSec, r.Insert.PerSec))
	}
	w("\nPostgreSQL is a local cluster with default settings (fsync on); accounts, node-registry and the usage-aggregator run in the benchmark process, built by the system builder as in `make run`.\n")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (r *Report) goalsMarkdown(w func(string, ...any)) {
	w("\n## Goals\n\n| goal | measured | target | status |\n|---|---|---|---|\n")
	var unmet []Goal
	for _, g := range r.Goals {
		status := "not measured"
		if g.Known && g.Met {
			status = "met"
		} else if g.Known {
			status = "**not met**"
			unmet = append(unmet, g)
		}
		w("| %s | %s | %s | %s |\n", g.Name, g.Measured, g.Target, status)
	}
	if len(unmet) > 0 {
		w("\n### What limits the goals not met\n\n")
		for _, g := range unmet {
			w("- %s: %s.\n", g.Name, g.Limits)
		}
	}
}
