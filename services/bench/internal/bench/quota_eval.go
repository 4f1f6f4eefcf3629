package bench

import (
	"fmt"
	"time"
)

// QuotaCase is one user with a traffic limit whose sessions download far more than it.
type QuotaCase struct {
	// Limit is the plan's traffic_limit_gb in bytes.
	Limit    int64
	Sessions int
	Gateways int
	// Delivered is what the SOCKS5 clients read through the tunnel; Charged is the user's usage
	// total from the control plane once the final reports landed.
	Delivered, Charged int64
	// Settled: every session row ended and the usage total equals the rows' sum.
	Settled bool
	// Told counts the clients that logged LIMIT_REACHED (limit traffic); Ended the session rows
	// that ended with limit_reached, of Rows.
	Told, Ended, Rows int
	// Took runs from the requests to the end of the last download.
	Took time.Duration
	Err  error
}

// quotaBound is the overshoot goal: max(1 MiB, 0.5% of the limit).
func quotaBound(limit int64) int64 { return max(1<<20, limit/200) }

// Overshoot is the larger of the bytes delivered and charged beyond the limit; negative is under.
func (c QuotaCase) Overshoot() int64 { return max(c.Delivered, c.Charged) - c.Limit }

// MBps is the download rate of all the case's sessions together.
func (c QuotaCase) MBps() float64 {
	if c.Took <= 0 {
		return 0
	}
	return float64(c.Delivered) / c.Took.Seconds() / 1e6
}

// problems are what keeps the case from its goal: over the bound, cut more than the bound
// early, a session not ended by the quota, or accounting that did not land.
func (c QuotaCase) problems() []string {
	if c.Err != nil {
		return []string{"not measured: " + oneLine(c.Err)}
	}
	var out []string
	bound, over := quotaBound(c.Limit), c.Overshoot()
	if over > bound {
		out = append(out, fmt.Sprintf("%s over the %s limit, bound %s", signedBytes(over), decimalBytes(c.Limit), boundText(c.Limit)))
	}
	if over < -bound {
		out = append(out, fmt.Sprintf("cut %s before the %s limit", binaryBytes(-over), decimalBytes(c.Limit)))
	}
	if c.Told < c.Sessions {
		out = append(out, fmt.Sprintf("%d of %d clients told LIMIT_REACHED", c.Told, c.Sessions))
	}
	if c.Rows != c.Sessions || c.Ended != c.Sessions {
		out = append(out, fmt.Sprintf("%d of %d session rows ended with limit_reached", c.Ended, c.Rows))
	}
	if !c.Settled {
		out = append(out, "the final usage reports did not land")
	}
	return out
}

// boundText is the bound as the goal states it: 1 MiB, or 0.5% of the limit when that is more.
func boundText(limit int64) string {
	if b := quotaBound(limit); b > 1<<20 {
		return decimalBytes(b) + " = 0.5%"
	}
	return "1 MiB"
}

func (c QuotaCase) met() bool { return len(c.problems()) == 0 }

// signedBytes is n with its sign: exact below 10 KiB, else in KiB or MiB.
func signedBytes(n int64) string {
	sign := "+"
	if n < 0 {
		sign, n = "−", -n
	}
	return sign + binaryBytes(n)
}

func binaryBytes(n int64) string {
	switch {
	case n < 10<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// decimalBytes is a plan size as the plan states it (traffic_limit_gb): MB or GB of 10^6, 10^9.
func decimalBytes(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%g GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%g MB", float64(n)/1e6)
}
