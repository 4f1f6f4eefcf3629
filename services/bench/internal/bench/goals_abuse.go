package bench

import "fmt"

func abuseGoals(r *Report) []Goal {
	a := r.Abuse
	var out []Goal

	g := Goal{Name: "a connection that upgraded and sent one frame header costs the gateway at most 24 KiB, and the hello timeout closes them all", Target: "≤ 24 KiB, all closed"}
	if r.AbuseErr == nil && a.PrefaceErr == nil && a.Preface.Conns > 0 {
		p := a.Preface
		g.Known, g.Met = true, p.HeapStack <= 24<<10 && p.Closed == p.Conns
		g.Measured = fmt.Sprintf("%.1f KiB per connection (%d connections), %d of %d closed", p.HeapStack/1024, p.Conns, p.Closed, p.Conns)
		g.Limits = fmt.Sprintf("each connection holds a TLS connection, the upgraded WebSocket and %.1f goroutines with their stacks until the hello timeout", p.Goroutines)
	}
	out = append(out, g)

	g = Goal{Name: "1-byte frames to targets that never read: gateway heap + stacks ≤ the gateway budget + 10%", Target: "≤ 1.10× budget"}
	if r.AbuseErr == nil && a.FloodErr == nil && a.Flood.Budget > 0 {
		f := a.Flood
		ratio := float64(f.MaxHeapStack) / float64(f.Budget)
		g.Known, g.Met = true, ratio <= 1.1 && f.MaxCharged <= uint64(f.Budget)
		g.Measured = fmt.Sprintf("%.2f× (%.1f MiB heap + stacks, %.1f MiB charged, budget %d MiB)", ratio, float64(f.MaxHeapStack)/(1<<20), float64(f.MaxCharged)/(1<<20), f.Budget>>20)
		g.Limits = "memory the budget does not charge (per-stream state beyond the fixed charge, frame decoding, sessions) grows with the streams"
	}
	out = append(out, g)

	g = Goal{Name: "stream_open/abort churn from one session: other sessions' bulk throughput ≥ 0.8× without the churn, no node marked down", Target: "≥ 0.80×, 0 node failures"}
	if r.AbuseErr == nil && a.ChurnErr == nil && a.Churn.Alone.MBps > 0 {
		c := a.Churn
		ratio := c.WithChurn.MBps / c.Without()
		g.Known, g.Met = true, ratio >= 0.8 && c.NodeDown == 0
		g.Measured = fmt.Sprintf("%.2f× (%.0f MB/s vs %.0f, the mean of before and after), %d node failures, %d opens refused by rate", ratio, c.WithChurn.MBps, c.Without(), c.NodeDown, c.RateRefusals)
		g.Limits = "the churn's opens and refusals take gateway and benchmark CPU on the same cores as the bulk streams; during the churn: " + cpuLimits(c.WithChurn.CPU) + "; without it: " + cpuLimits(c.Alone.CPU)
	}
	out = append(out, g)

	g = Goal{Name: "goroutines and file descriptors of the gateway return to their baseline after every scenario", Target: "all back"}
	if len(a.Baselines) > 0 {
		back, missed := 0, ""
		for _, b := range a.Baselines {
			if b.returned() {
				back++
			} else if missed == "" {
				missed = fmt.Sprintf("%s: goroutines %d → %d, descriptors %d → %d", b.Scenario, b.Goroutines, b.AfterGoroutines, b.FDs, b.AfterFDs)
			}
		}
		g.Known, g.Met = true, back == len(a.Baselines)
		g.Measured = fmt.Sprintf("%d of %d scenarios", back, len(a.Baselines))
		g.Limits = "still held after " + r.AbuseSettings.BaselineWait.String() + ": " + missed
	}
	out = append(out, g)
	return out
}
