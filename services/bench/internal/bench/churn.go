package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
)

// Churn is the bulk throughput of other sessions without and with one session that opens and
// aborts streams as fast as it can.
type Churn struct {
	Sessions int
	// Alone is the bulk throughput before the churn, WithChurn during it, After once it ended.
	Alone, WithChurn, After Throughput
	// Opened and Refused are the churn session's streams the gateway opened and refused with
	// stream_open_rate; RateRefusals is the gateway's counter of those refusals.
	Opened, Refused, OtherErrors int64
	RateRefusals                 int
	// NodeDown counts node failovers and node dial errors at the gateway during the run.
	NodeDown int
}

func measureChurn(ctx context.Context, gw *gatewayChild, cfg client.Config, in *infra, s AbuseSettings) (Churn, error) {
	target := in.target.Addr
	c := Churn{Sessions: s.ChurnSessions}
	bulk := make([]*client.Session, s.ChurnSessions)
	defer closeAll(bulk)
	devices, err := in.admin.Devices(ctx, "churn", len(bulk)+1)
	if err != nil {
		return c, fmt.Errorf("devices: %w", err)
	}
	for i := range bulk {
		sess, err := client.Dial(ctx, withDevice(cfg, devices[i]))
		if err != nil {
			return c, fmt.Errorf("bulk session %d: %w", i+1, err)
		}
		bulk[i] = sess
	}
	var next atomic.Int64
	p := Path{
		Name: scenarioChurn,
		Open: func(ctx context.Context) (net.Conn, error) {
			return bulk[int(next.Add(1)-1)%len(bulk)].OpenStream(ctx, target)
		},
		Procs: []proc{{Name: nameGateway, PID: gw.PID}, {Name: nameSSServer, PID: in.ss.PID()}, {Name: nameBench, PID: os.Getpid()}},
	}
	warmup, window := s.ChurnWindow/5, s.ChurnWindow
	base, err := gw.mem()
	if err != nil {
		return c, fmt.Errorf("gateway memory: %w", err)
	}
	if c.Alone, err = measureThroughput(ctx, p, s.ChurnSessions, warmup, window); err != nil {
		return c, fmt.Errorf("bulk alone: %w", err)
	}
	churner, err := client.Dial(ctx, withDevice(cfg, devices[len(bulk)]))
	if err != nil {
		return c, fmt.Errorf("churn session: %w", err)
	}
	defer churner.Close()
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var opened, refused, other atomic.Int64
	for range s.ChurnWorkers {
		wg.Go(func() {
			for cctx.Err() == nil {
				st, err := churner.OpenStream(cctx, target)
				if err != nil {
					other.Add(1)
					return
				}
				err = st.AwaitOpen(cctx)
				_ = st.Close()
				ge, isGateway := client.AsGatewayError(err)
				switch {
				case err == nil:
					opened.Add(1)
				case isGateway && ge.Limit == schemas.LimitStreamOpenRate:
					refused.Add(1)
				case cctx.Err() == nil:
					other.Add(1)
				}
			}
		})
	}
	c.WithChurn, err = measureThroughput(ctx, p, s.ChurnSessions, warmup, window)
	stop()
	wg.Wait()
	c.Opened, c.Refused, c.OtherErrors = opened.Load(), refused.Load(), other.Load()
	if err != nil {
		return c, fmt.Errorf("bulk next to the churn: %w", err)
	}
	if c.After, err = measureThroughput(ctx, p, s.ChurnSessions, warmup, window); err != nil {
		return c, fmt.Errorf("bulk after the churn: %w", err)
	}
	after, err := gw.mem()
	if err != nil {
		return c, fmt.Errorf("gateway memory: %w", err)
	}
	rate := label("limit", string(schemas.LimitStreamOpenRate))
	c.RateRefusals = int(after.counter("limit_refusals_total", rate) - base.counter("limit_refusals_total", rate))
	node := label("kind", "node")
	c.NodeDown = int(after.counter("node_failovers_total") - base.counter("node_failovers_total") +
		after.counter("upstream_dial_errors_total", node) - base.counter("upstream_dial_errors_total", node))
	return c, nil
}

// Without is the bulk rate without the churn: the mean of the runs before and after it.
func (c Churn) Without() float64 { return (c.Alone.MBps + c.After.MBps) / 2 }
