package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client/internal/stack"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	benchGatewayID   = "gw-bench-usage"
	validateParallel = 16
	validateTimeout  = 5 * time.Second
)

// Validate is the validate-device request rate against the accounts service.
type Validate struct {
	Requests int
	PerSec   float64
	Latency  Latency
	CPU      []CPUShare
}

// measureValidate sends at most count validate-device requests for d from validateParallel
// callers, for at most budget.
func measureValidate(ctx context.Context, nc *nats.Conn, d stack.Device, region string, count int, budget time.Duration, procs []proc) (Validate, error) {
	req := schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: d.Token, Region: region, ClientVersion: "bench", Platform: "linux"}
	deadline := time.Now().Add(budget)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	lat := make([][]time.Duration, validateParallel)
	var wg sync.WaitGroup
	cpu := watchCPU(procs)
	start := time.Now()
	for w := range validateParallel {
		wg.Go(func() {
			for next.Add(1) <= int64(count) && time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				rep, err := rpc.Call[schemas.ValidateDeviceReply](ctx, nc, schemas.SubjectValidateDevice, req, validateTimeout)
				if err == nil && !rep.OK {
					err = fmt.Errorf("refused: %v", rep.Error)
				}
				if err != nil {
					e := fmt.Errorf("validate-device: %w", err)
					firstErr.CompareAndSwap(nil, &e)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	shares := cpu.stop()
	if e := firstErr.Load(); e != nil {
		return Validate{}, *e
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return Validate{Requests: len(all), PerSec: float64(len(all)) / elapsed.Seconds(), Latency: summarize(all), CPU: shares}, nil
}

// Usage is the usage-aggregator's ingest rate.
type Usage struct {
	Reports int
	PerSec  float64
	CPU     []CPUShare
}

// publishUsage puts n cumulative usage reports of sessions (round robin over users) into the
// USAGE stream and waits until JetStream has stored them all.
func publishUsage(ctx context.Context, js jetstream.JetStream, users []int64, devices []string, region string, n, sessions int) error {
	ids := make([]string, sessions)
	seq := make([]uint64, sessions)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	now := time.Now().UTC()
	for i := range n {
		s := i % sessions
		seq[s]++
		u := s % len(users)
		r := schemas.UsageReport{
			SessionID: ids[s], Seq: seq[s], GatewayID: benchGatewayID, Region: region, UserID: users[u], DeviceID: devices[u],
			BytesUp: int64(seq[s]) * 1000, BytesDown: int64(seq[s]) * 9000, DeltaUp: 1000, DeltaDown: 9000,
			StartedAt: now, ReportedAt: now,
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: schemas.UsageSubject(r.Region, r.GatewayID), Data: data}
		if _, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(schemas.UsageMsgID(r.SessionID, r.Seq))); err != nil {
			return fmt.Errorf("publish usage: %w", err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-time.After(2 * time.Minute):
		return errors.New("usage reports not stored by JetStream within 2m")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pendingUsage is how many USAGE messages the aggregator's durable has not yet acknowledged.
func pendingUsage(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	c, err := js.Consumer(ctx, schemas.StreamUsage, schemas.ConsumerUsageAggregator)
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// waitDrained polls until the aggregator acknowledged everything, at most budget.
func waitDrained(ctx context.Context, js jetstream.JetStream, budget time.Duration) error {
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		n, err := pendingUsage(ctx, js)
		if err == nil && n == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("usage-aggregator did not drain the USAGE stream within %s", budget)
}
