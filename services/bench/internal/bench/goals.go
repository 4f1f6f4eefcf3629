package bench

import (
	"fmt"
	"strings"
	"time"
)

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
	def, okDef := r.path(nameDefaults)
	js, okJSON := r.path(nameJSON)
	ch, okChisel := r.path(nameChisel)
	ss, okSS := r.path(nameSS)
	var out []Goal

	g := Goal{Name: "first byte median (new connection per request) ≤ chisel's and ≤ 1.5× the plain Shadowsocks hop's", Target: "≤ 1.00× chisel, ≤ 1.50× ss"}
	if okDef && okChisel && okSS && ch.TTFB.Median > 0 && ss.TTFB.Median > 0 {
		rc := float64(def.TTFB.Median) / float64(ch.TTFB.Median)
		rs := float64(def.TTFB.Median) / float64(ss.TTFB.Median)
		g.Known, g.Met = true, rc <= 1 && rs <= 1.5
		g.Measured = fmt.Sprintf("%.2f× chisel, %.2f× ss (%s vs %s and %s)", rc, rs, round(def.TTFB.Median), round(ch.TTFB.Median), round(ss.TTFB.Median))
		g.Limits = "a new connection costs the SOCKS5 handshake, a stream_open to the gateway, the gateway's Shadowsocks dial of the node and its stream_ok before the SOCKS reply; the client speaks only after the reply"
	}
	out = append(out, g)

	g = Goal{Name: "one bulk stream with the client's defaults ≥ 2× chisel and ≥ 0.6× the plain Shadowsocks hop", Target: "≥ 2.00× chisel, ≥ 0.60× ss"}
	if okDef && okChisel && okSS {
		d, _ := def.rate(1)
		c, _ := ch.rate(1)
		s, _ := ss.rate(1)
		g.Known = c.MBps > 0 && s.MBps > 0
		if g.Known {
			rc, rs := d.MBps/c.MBps, d.MBps/s.MBps
			g.Met = rc >= 2 && rs >= 0.6
			g.Measured = fmt.Sprintf("%.2f× chisel, %.2f× ss (%.0f vs %.0f and %.0f MB/s)", rc, rs, d.MBps, c.MBps, s.MBps)
			g.Limits = cpuLimits(d.CPU)
		}
	}
	out = append(out, g)

	g = Goal{Name: "JSON-only (spec) mode ≥ 0.5× the client's defaults (one bulk stream)", Target: "≥ 0.50×"}
	if okDef && okJSON {
		d, _ := def.rate(1)
		j, _ := js.rate(1)
		if d.MBps > 0 {
			ratio := j.MBps / d.MBps
			g.Known, g.Met = true, ratio >= 0.5
			g.Measured = fmt.Sprintf("%.2f× (%.0f vs %.0f MB/s)", ratio, j.MBps, d.MBps)
			g.Limits = "base64 and JSON framing cost CPU on both ends: " + cpuLimits(j.CPU)
		}
	}
	out = append(out, g)

	g = Goal{Name: "100 parallel streams: the slowest gets ≥ 0.8× the fastest's bytes (client defaults)", Target: "≥ 0.80"}
	if okDef {
		if t, ok := def.rate(100); ok {
			g.Known, g.Met = true, t.Fairness >= 0.8
			g.Measured = fmt.Sprintf("%.2f", t.Fairness)
			g.Limits = "per-stream credit decides the share each stream gets of the session's one WebSocket"
		}
	}
	out = append(out, g)

	g = Goal{Name: "httvps-client + gateway CPU per GB ≤ chisel client + server CPU per GB (one bulk stream)", Target: "≤ 1.00×"}
	if okDef && okChisel {
		d, _ := def.rate(1)
		c, _ := ch.rate(1)
		dg, cg := d.CPUPerGB(def.Tunnel), c.CPUPerGB(ch.Tunnel)
		if cg > 0 {
			g.Known, g.Met = true, dg <= cg
			g.Measured = fmt.Sprintf("%.2f× (%.2f vs %.2f core-seconds per GB)", dg/cg, dg, cg)
			g.Limits = cpuLimits(d.CPU)
		}
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
	out = append(out, udpGoals(r)...)
	out = append(out, quotaGoals(r)...)
	return append(out, abuseGoals(r)...)
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

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
