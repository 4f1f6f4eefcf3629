package bench

import (
	"fmt"
	"time"
)

func (r *Report) quotaMarkdown(w func(string, ...any)) {
	q, s := r.Quota, r.QuotaSettings
	w("\n## The traffic quota at its limit\n\n")
	w("Two gateways in their own processes (`HTTVPS_GATEWAY_LEASE_BYTES` at its default, %s; usage reports every %s) and the usage-aggregator, ", binaryBytes(int64(q.LeaseBytes)), q.UsageInterval)
	w("which grants traffic leases from what remains of the user's quota across all of the user's sessions. ")
	w("For each limit, a new user on a plan with `traffic_limit_gb`, created with the admin commands the REST edge sends, and one `httvps-client` process per device ")
	w("(SOCKS5 front end; `--backoff-min %s` so that a client told `LIMIT_REACHED` does not reconnect while its case runs); four sessions are two clients on each gateway. ", quotaBackoff)
	w("Every SOCKS5 client asks the target for twice the limit, all at once, and reads until the tunnel cuts it (at most %s). ", s.QuotaBudget)
	w("Delivered is what the SOCKS5 clients read; charged is the user's `total_bytes` from `GET /admin/users/{id}/usage` once every session row (`GET /admin/sessions?user_id=`) ended and the usage equals their sum (polled for at most %s). ", s.QuotaSettle)
	w("Charged counts both directions (each request is 8 bytes up), delivered only the download. ")
	w("Overshoot = max(delivered, charged) − limit; negative is under the limit. ")
	w("A case meets its goal when the overshoot is within ± max(1 MiB, 0.5%% of the limit) (so a quota cut early fails too), every client was told `LIMIT_REACHED` (traffic) and every session row ended with `limit_reached`. ")
	w("The last column is what the design before the leases let through at the case's rate: it checked the limit only when a usage report arrived, up to one interval later.\n\n")
	if r.QuotaErr != nil {
		w("Not measured: %s\n\n", oneLine(r.QuotaErr))
	}
	if q.ReferenceErr != nil {
		w("Reference not measured: %s\n\n", oneLine(q.ReferenceErr))
	} else if q.Reference.MBps > 0 {
		w("Reference in the same run: a user without a traffic limit, one bulk stream through the same client binary and gateway: %.0f MB/s over %s.\n\n", q.Reference.MBps, r.Window)
	}
	r.speedMarkdown(w)
	if len(q.Cases) == 0 {
		return
	}
	w("| limit | sessions | bound | delivered | charged | overshoot | clients told `LIMIT_REACHED` (traffic) | session rows ended `limit_reached` | download rate | before the leases: rate × report interval |\n")
	w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range q.Cases {
		where := fmt.Sprintf("%d on %d gateways", c.Sessions, c.Gateways)
		if c.Sessions == 1 {
			where = "1"
		}
		if c.Err != nil {
			w("| %s | %s | not measured: %s | | | | | | | |\n", decimalBytes(c.Limit), where, oneLine(c.Err))
			continue
		}
		rate := fmt.Sprintf("%.0f MB/s", c.MBps())
		// a ratio only for a download as long as the reference's window: a short one is mostly ramp-up
		if c.Sessions == 1 && q.Reference.MBps > 0 && c.Took >= r.Window {
			rate += fmt.Sprintf(" (%.2f× without a limit)", c.MBps()/q.Reference.MBps)
		}
		charged := fmt.Sprint(c.Charged)
		if !c.Settled {
			charged += " (final reports not landed)"
		}
		w("| %s | %s | %s | %d | %s | %s | %d of %d | %d of %d | %s | %s |\n",
			decimalBytes(c.Limit), where, boundText(c.Limit), c.Delivered, charged, signedBytes(c.Overshoot()),
			c.Told, c.Sessions, c.Ended, c.Rows, rate, oldDesign(c, q.UsageInterval))
	}
}

// oldDesign is what one usage-report interval lets through at the case's rate.
func oldDesign(c QuotaCase, interval time.Duration) string {
	b := c.MBps() * 1e6 * interval.Seconds()
	return fmt.Sprintf("%.0f MB (%.1f× the limit)", b/1e6, b/float64(c.Limit))
}

func (r *Report) speedMarkdown(w func(string, ...any)) {
	sp := r.Quota.Speed
	if sp.Mbps == 0 && sp.Err == nil {
		return
	}
	w("Speed limit, same gateway: a user on a plan with `speed_limit_mbps: %d` and a user without limits, each through its own `httvps-client`. ", sp.Mbps)
	w("First the first byte of a lone 1-byte request on a new connection, one user after the other; then one bulk stream each, at the same time, counted over %s after %s of warm-up.\n\n", r.Window, r.Warmup)
	if sp.Err != nil {
		w("Not measured: %s\n\n", oneLine(sp.Err))
		return
	}
	w("| user | bulk rate | first byte median | first byte p99 |\n|---|---:|---:|---:|\n")
	w("| `speed_limit_mbps: %d` | %.2f Mbit/s | %s | %s |\n", sp.Mbps, sp.LimitedMbps(), round(sp.LimitedTTFB.Median), round(sp.LimitedTTFB.P99))
	w("| no limit | %.0f MB/s | %s | %s |\n\n", sp.Free.MBps, round(sp.TTFB.Median), round(sp.TTFB.P99))
}
