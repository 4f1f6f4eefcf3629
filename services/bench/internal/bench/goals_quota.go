package bench

import (
	"fmt"
	"strings"
)

func quotaGoals(r *Report) []Goal {
	return []Goal{
		quotaGoal(r, 1, "quota overshoot, one session ≤ max(1 MiB, 0.5% of the limit)"),
		quotaGoal(r, 4, "quota overshoot, four sessions of one user on two gateways ≤ max(1 MiB, 0.5% of the limit)"),
	}
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
