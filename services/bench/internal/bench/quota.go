package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
)

// QuotaSettings bound the quota part in count and time.
type QuotaSettings struct {
	// QuotaLimits are the plans' traffic limits in bytes; each runs with one session and with
	// four sessions on two gateways.
	QuotaLimits []int64
	// QuotaBudget bounds one case's downloads, QuotaSettle the wait for its final reports.
	QuotaBudget, QuotaSettle time.Duration
}

func quotaSettingsFor(quick bool) QuotaSettings {
	if quick {
		return QuotaSettings{QuotaLimits: []int64{50e6}, QuotaBudget: 20 * time.Second, QuotaSettle: 20 * time.Second}
	}
	return QuotaSettings{QuotaLimits: []int64{50e6, 1e9}, QuotaBudget: 45 * time.Second, QuotaSettle: 30 * time.Second}
}

// Quota is the quota part: its cases and the same path's rate for a user without a limit.
type Quota struct {
	Cases         []QuotaCase
	Reference     Throughput
	ReferenceErr  error
	Speed         SpeedLimit
	LeaseBytes    int
	UsageInterval time.Duration
}

const (
	quotaGateways = 2
	// quotaBackoff keeps a client that was told LIMIT_REACHED from reconnecting while its case runs.
	quotaBackoff = "1m"
	quotaTold    = 5 * time.Second
)

// measureQuota runs two gateway children and, for every limit, one user with one session and
// one with four (two httvps-client processes on each gateway), each downloading far more than
// its limit through the clients' SOCKS5 front ends.
func measureQuota(ctx context.Context, in *infra, s Settings, q QuotaSettings, progress io.Writer) (Quota, error) {
	d := gateway.DefaultConfig()
	out := Quota{LeaseBytes: d.LeaseBytes, UsageInterval: d.UsageInterval}
	bin, err := buildClient(ctx, in.dir)
	if err != nil {
		return out, err
	}
	var gws []*gatewayChild
	defer func() {
		for _, gw := range gws {
			gw.stop()
		}
	}()
	for _, name := range []string{"quota-a", "quota-b"}[:quotaGateways] {
		gw, err := startGatewayChild(ctx, in.gatewayEnv(name))
		if err != nil {
			return out, err
		}
		gws = append(gws, gw)
	}
	out.Reference, out.ReferenceErr = measureQuotaReference(ctx, in, bin, gws[0], s)
	if out.ReferenceErr == nil {
		fmt.Fprintf(progress, "  without a quota: %.0f MB/s\n", out.Reference.MBps)
	}
	out.Speed = measureSpeedLimit(ctx, in, bin, gws[0], s)
	if out.Speed.Err != nil {
		fmt.Fprintf(progress, "  speed limit failed: %v\n", out.Speed.Err)
	} else {
		fmt.Fprintf(progress, "  %d Mbit/s plan: %.2f Mbit/s beside %.0f MB/s unlimited; first byte %v vs %v\n", out.Speed.Mbps,
			out.Speed.LimitedMbps(), out.Speed.Free.MBps, out.Speed.LimitedTTFB.Median, out.Speed.TTFB.Median)
	}
	for _, limit := range q.QuotaLimits {
		for _, n := range []int{1, 4} {
			c := measureQuotaCase(ctx, in, bin, gws, limit, n, q)
			if c.Err != nil {
				fmt.Fprintf(progress, "  %s, %d sessions failed: %v\n", decimalBytes(limit), n, c.Err)
			} else {
				fmt.Fprintf(progress, "  %s, %d sessions: delivered %d, charged %d, overshoot %s, %d told, %d of %d rows limit_reached, settled %v\n",
					decimalBytes(limit), n, c.Delivered, c.Charged, signedBytes(c.Overshoot()), c.Told, c.Ended, c.Rows, c.Settled)
			}
			out.Cases = append(out.Cases, c)
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// measureQuotaReference is one bulk stream of a user without a traffic limit through the same
// client binary and gateway.
func measureQuotaReference(ctx context.Context, in *infra, bin string, gw *gatewayChild, s Settings) (Throughput, error) {
	d, err := in.admin.Subscriber(ctx, "quota-reference", 1)
	if err != nil {
		return Throughput{}, err
	}
	c, err := startHTTVPSClient(ctx, bin, gw, d, false)
	if err != nil {
		return Throughput{}, err
	}
	defer c.Stop()
	procs := []proc{{Name: nameBench, PID: os.Getpid()}, {Name: nameClient, PID: c.PID()}, {Name: nameGateway, PID: gw.PID}, {Name: nameSSServer, PID: in.ss.PID()}}
	p := socksPath("quota reference", "", c.Addr, in.target.Addr, procs, []string{nameClient, nameGateway}, c.Stop)
	return measureThroughput(ctx, p, 1, s.Warmup, s.Window)
}

// measureQuotaCase creates a user with the limit and n devices, runs one client per device
// (round robin over the gateways), downloads through all of them at once until the gateways cut
// them, and waits for the control plane's final accounting.
func measureQuotaCase(ctx context.Context, in *infra, bin string, gws []*gatewayChild, limit int64, n int, q QuotaSettings) QuotaCase {
	c := QuotaCase{Limit: limit, Sessions: n, Gateways: min(n, len(gws))}
	user, devices, err := quotaCustomer(ctx, in.admin, fmt.Sprintf("quota-%d-%d", limit, n), limit, n)
	if err != nil {
		c.Err = err
		return c
	}
	clients := make([]*loggedProcess, 0, n)
	stopAll := func() {
		for _, p := range clients {
			p.stop()
		}
		clients = nil
	}
	defer stopAll()
	for i, d := range devices {
		socks, err := system.FreeAddr()
		if err == nil {
			args := clientArgs(gws[i%len(gws)], d, socks, "warn", "--backoff-min", quotaBackoff, "--backoff-max", quotaBackoff)
			var p *loggedProcess
			if p, err = startLogged(ctx, socks, bin, args...); err == nil {
				clients = append(clients, p)
			}
		}
		if err != nil {
			c.Err = fmt.Errorf("client %d: %w", i+1, err)
			return c
		}
	}
	if c.Delivered, c.Took, c.Err = downloadAll(ctx, clients, in.target.Addr, uint64(2*limit), q.QuotaBudget); c.Err != nil {
		return c
	}
	told := client.Describe(schemas.CodeLimitReached, schemas.LimitTraffic)
	for _, p := range clients {
		if p.waitLogged(ctx, told, quotaTold) {
			c.Told++
		}
	}
	// a session the quota did not end ends now, so its row shows how it ended
	stopAll()
	c.Err = settleQuota(ctx, in.admin, user, &c, q.QuotaSettle)
	return c
}

// downloadAll asks the target for size bytes through every client at once and reads until each
// stream ends or budget passes (a download the quota did not cut is measured, not an error); it
// returns the bytes read and the time to the last end.
func downloadAll(ctx context.Context, clients []*loggedProcess, target string, size uint64, budget time.Duration) (int64, time.Duration, error) {
	conns := make([]net.Conn, 0, len(clients))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i, p := range clients {
		c, err := socksDial(ctx, p.Addr, target)
		if err != nil {
			return 0, 0, fmt.Errorf("client %d: %w", i+1, err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	deadline := start.Add(budget)
	var total, last atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for i, c := range conns {
		_ = c.SetDeadline(deadline)
		wg.Go(func() {
			if err := request(c, size); err != nil {
				e := fmt.Errorf("client %d: request: %w", i+1, err)
				failed.CompareAndSwap(nil, &e)
				return
			}
			buf := make([]byte, readBuffer)
			for {
				n, err := c.Read(buf)
				total.Add(int64(n))
				if err != nil {
					break
				}
			}
			end := int64(time.Since(start))
			for old := last.Load(); end > old && !last.CompareAndSwap(old, end); old = last.Load() {
			}
		})
	}
	wg.Wait()
	took := time.Duration(last.Load())
	if e := failed.Load(); e != nil {
		return total.Load(), took, *e
	}
	return total.Load(), took, ctx.Err()
}
