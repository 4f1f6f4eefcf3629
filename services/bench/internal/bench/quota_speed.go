package bench

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/httvps/httvps/services/httvps/system"
)

const speedLimitMbps = 40

// SpeedLimit is a user on a speed-limited plan beside one without a limit, on the same gateway
// at the same time, and the first byte of a lone small request for each.
type SpeedLimit struct {
	Mbps              int
	Limited, Free     Throughput
	LimitedTTFB, TTFB Latency
	Err               error
}

// LimitedMbps is the limited user's rate in megabits per second.
func (s SpeedLimit) LimitedMbps() float64 { return s.Limited.MBps * 8 }

// measureSpeedLimit runs one httvps-client for a user on a speedLimitMbps plan and one for a
// user without limits, on the same gateway: first their first bytes one after the other, then
// one bulk stream each, at the same time.
func measureSpeedLimit(ctx context.Context, in *infra, bin string, gw *gatewayChild, s Settings) SpeedLimit {
	out := SpeedLimit{Mbps: speedLimitMbps}
	_, limited, err := limitedCustomer(ctx, in.admin, "speed-limited", map[string]any{"speed_limit_mbps": speedLimitMbps}, 1)
	if err != nil {
		out.Err = err
		return out
	}
	free, err := in.admin.Subscriber(ctx, "speed-free", 1)
	if err != nil {
		out.Err = err
		return out
	}
	var paths []Path
	for _, d := range []system.Device{limited[0], free} {
		c, err := startHTTVPSClient(ctx, bin, gw, d, false)
		if err != nil {
			out.Err = err
			return out
		}
		defer c.Stop()
		procs := []proc{{Name: nameBench, PID: os.Getpid()}, {Name: nameClient, PID: c.PID()}, {Name: nameGateway, PID: gw.PID}, {Name: nameSSServer, PID: in.ss.PID()}}
		paths = append(paths, socksPath("speed "+d.DeviceUUID, "", c.Addr, in.target.Addr, procs, []string{nameClient, nameGateway}, c.Stop))
	}
	n, budget := max(1, s.TTFBSamples/2), s.TTFBBudget/2
	if out.LimitedTTFB, out.Err = measureTTFB(ctx, paths[0], n, budget); out.Err != nil {
		return out
	}
	if out.TTFB, out.Err = measureTTFB(ctx, paths[1], n, budget); out.Err != nil {
		return out
	}
	var wg sync.WaitGroup
	var errs [2]error
	for i, into := range []*Throughput{&out.Limited, &out.Free} {
		wg.Go(func() { *into, errs[i] = measureThroughput(ctx, paths[i], 1, s.Warmup, s.Window) })
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil && out.Err == nil {
			out.Err = fmt.Errorf("bulk stream: %w", e)
		}
	}
	return out
}
