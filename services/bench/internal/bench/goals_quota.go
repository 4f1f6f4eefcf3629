package bench

import (
	"fmt"
	"strings"
)

func quotaGoals(r *Report) []Goal {
	return append([]Goal{
		quotaGoal(r, 1, "quota overshoot, one session ≤ max(1 MiB, 0.5% of the limit)"),
		quotaGoal(r, 4, "quota overshoot, four sessions of one user on two gateways ≤ max(1 MiB, 0.5% of the limit)"),
	}, speedGoals(r)...)
}

// speedGoals judge the speed-limited user: its bulk rate within 5% of the plan beside an
// unlimited user, and its lone small request as fast as the unlimited user's.
func speedGoals(r *Report) []Goal {
	sp := r.Quota.Speed
	rate := Goal{Name: fmt.Sprintf("a %d Mbit/s plan measures %d Mbit/s ± 5%% on a bulk download beside an unlimited user", speedLimitMbps, speedLimitMbps),
		Target: fmt.Sprintf("%.0f … %.0f Mbit/s", 0.95*speedLimitMbps, 1.05*speedLimitMbps)}
	lone := Goal{Name: "the speed limit adds no latency to a lone small request: first byte median ≤ 1.10× the unlimited user's", Target: "≤ 1.10×"}
	if r.QuotaErr != nil || sp.Err != nil || sp.Mbps == 0 {
		return []Goal{rate, lone}
	}
	got := sp.LimitedMbps()
	rate.Known = sp.Limited.MBps > 0
	rate.Met = rate.Known && got >= 0.95*float64(sp.Mbps) && got <= 1.05*float64(sp.Mbps)
	rate.Measured = fmt.Sprintf("%.2f Mbit/s (%.3f× the plan), the unlimited user beside it %.0f MB/s", got, got/float64(sp.Mbps), sp.Free.MBps)
	if sp.TTFB.Median > 0 {
		ratio := float64(sp.LimitedTTFB.Median) / float64(sp.TTFB.Median)
		lone.Known, lone.Met = true, ratio <= 1.10
		lone.Measured = fmt.Sprintf("%.2f× (%s vs %s)", ratio, round(sp.LimitedTTFB.Median), round(sp.TTFB.Median))
	}
	return []Goal{rate, lone}
}

// quotaGoal judges every measured case of the given number of sessions: each within the bound
// above the limit (and not cut more than the bound below it), every session ended by the quota.
func quotaGoal(r *Report, sessions int, name string) Goal {
	g := Goal{Name: name, Target: "within ± max(1 MiB, 0.5%), every session ended by LIMIT_REACHED (traffic)"}
	if r.QuotaErr != nil {
		return g
	}
	var measured, limits []string
	met := true
	for _, c := range r.Quota.Cases {
		if c.Sessions != sessions {
			continue
		}
		if c.Err == nil {
			g.Known = true
			measured = append(measured, fmt.Sprintf("%s: %s (bound %s, %d of %d told LIMIT_REACHED)",
				decimalBytes(c.Limit), signedBytes(c.Overshoot()), boundText(c.Limit), c.Told, c.Sessions))
		}
		if p := c.problems(); len(p) > 0 {
			met = false
			limits = append(limits, decimalBytes(c.Limit)+": "+strings.Join(p, ", "))
		}
	}
	g.Met = g.Known && met
	g.Measured = strings.Join(measured, "; ")
	g.Limits = strings.Join(limits, "; ")
	return g
}
