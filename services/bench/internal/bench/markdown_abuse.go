package bench

import "fmt"

func (r *Report) abuseMarkdown(w func(string, ...any)) {
	s, a := r.AbuseSettings, r.Abuse
	w("\n## The gateway under abuse\n\n")
	w("One gateway in its own process, configured for these scenarios: hello timeout %s, gateway memory budget `HTTVPS_GATEWAY_MEMORY` = %d MiB, ", s.HelloTimeout, s.GatewayMemory>>20)
	w("session budget `HTTVPS_GATEWAY_SESSION_MEMORY` = %d MiB; every connection comes from 127.0.0.1, so the per-address cap ", s.SessionMemory>>20)
	w("(`HTTVPS_GATEWAY_MAX_SESSIONS_PER_ADDRESS`) and the handshake cap (`HTTVPS_GATEWAY_MAX_HANDSHAKES`) are turned off (0); the stream_open rate is the default. ")
	w("Memory is heap + goroutine stacks of the gateway process after a forced garbage collection.\n\n")
	if r.AbuseErr != nil {
		w("Not measured: %s\n\n", oneLine(r.AbuseErr))
		if len(a.Baselines) == 0 {
			return
		}
	}
	w("| scenario | result |\n|---|---|\n")
	if a.PrefaceErr != nil {
		w("| %s | not measured: %s |\n", scenarioPreface, oneLine(a.PrefaceErr))
	} else if p := a.Preface; p.Conns > 0 {
		w("| %d TLS connections, each: WebSocket upgrade, then the first 8 bytes of a masked text frame (header announcing 4096 bytes), then nothing; opened in %s by %d dialers (%d dials retried) | %.1f KiB heap + stacks and %.1f goroutines per connection; the gateway closed %d of %d (HELLO_TIMEOUT counted %d), the last %s after the last connection opened (hello timeout %s) |\n",
			p.Conns, round(p.Opened), dialParallel, p.DialRetries, p.HeapStack/1024, p.Goroutines, p.Closed, p.Conns, p.TimedOut, round(p.ClosedIn), p.HelloTimeout)
	}
	if a.FloodErr != nil {
		w("| %s | not measured: %s |\n", scenarioFlood, oneLine(a.FloodErr))
	} else if f := a.Flood; f.Sessions > 0 {
		lower := ""
		if f.StreamsPerSession < 256 {
			lower = fmt.Sprintf(" (not 256: ss-server holds two descriptors per stream and the limit here is %s per process)", fdLimit())
		}
		w("| %d sessions × %d streams%s, flow control off, each stream writing 1-byte binary frames for %s to a target that accepts and never reads | %d streams opened, %d refused with `LIMIT_REACHED memory`, %d frames sent; at most %.1f MiB heap + stacks and %.1f MiB `memory_charged_bytes` (budget %d MiB) |\n",
			f.Sessions, f.StreamsPerSession, lower, f.Window, f.Opened, f.RefusedMemory, f.Frames,
			float64(f.MaxHeapStack)/(1<<20), float64(f.MaxCharged)/(1<<20), f.Budget>>20)
	}
	if a.ChurnErr != nil {
		w("| %s | not measured: %s |\n", scenarioChurn, oneLine(a.ChurnErr))
	} else if c := a.Churn; c.Sessions > 0 {
		w("| %d sessions each downloading one bulk stream (client defaults) for %s before, during and after one session whose %d workers open a stream, wait for its answer and abort it, without pause (%s instead of 30 s to keep `make bench` short) | bulk %.0f MB/s before, %.0f MB/s during the churn, %.0f MB/s after; the churn session got %d streams opened and %d refused with `LIMIT_REACHED stream_open_rate` (gateway counter: %d), %d other errors; node failovers and node dial errors: %d |\n",
			c.Sessions, s.ChurnWindow, s.ChurnWorkers, s.ChurnWindow, c.Alone.MBps, c.WithChurn.MBps, c.After.MBps, c.Opened, c.Refused, c.RateRefusals, c.OtherErrors, c.NodeDown)
	}
	sitesMarkdown(w, "connection that upgraded and sent one frame header", "every allocation sampled", a.Preface.Sites)
	sitesMarkdown(w, "opened stream of the 1-byte flood, at the largest sample", fmt.Sprintf("one allocation per %d KiB sampled, scaled up", floodProfileRate>>10), a.Flood.Sites)
	w("\nGoroutines and open file descriptors (/proc/<pid>/fd) of the gateway process before each scenario and once it ended (polled for at most %s):\n\n", s.BaselineWait)
	w("| scenario | goroutines before → after | descriptors before → after | back at baseline |\n|---|---:|---:|---|\n")
	for _, b := range a.Baselines {
		if b.Err != nil {
			w("| %s | not measured: %s | | |\n", b.Scenario, oneLine(b.Err))
			continue
		}
		w("| %s | %d → %d | %d → %d | %s |\n", b.Scenario, b.Goroutines, b.AfterGoroutines, b.FDs, b.AfterFDs, yesNo(b.returned()))
	}
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func fdLimit() string {
	if n := descriptorLimit(); n > 0 {
		return fmt.Sprint(n)
	}
	return "unknown"
}

func sitesMarkdown(w func(string, ...any), what, sampling string, sites []SiteCost) {
	if len(sites) == 0 {
		return
	}
	w("\nWhere the gateway's heap goes per %s (allocation sites, %s):\n\n| allocation site | per unit |\n|---|---:|\n", what, sampling)
	for _, s := range sites {
		w("| `%s` | %.1f KiB |\n", s.Site, s.Bytes/1024)
	}
}
