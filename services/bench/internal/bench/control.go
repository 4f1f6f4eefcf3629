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
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"
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

// measureValidateAndEcho measures validate-device against the accounts service, then the same
// callers against a bare NATS micro echo service answering a reply of the same size.
func measureValidateAndEcho(ctx context.Context, in *infra, s Settings) (Validate, Validate, error) {
	d := in.device
	req := schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: d.Token, Region: region, ClientVersion: "bench", Platform: "linux"}
	nc := in.sys.NATS()
	var sample []byte
	v, err := measureCalls(ctx, s.ValidateCount, s.ValidateBudget, in.controlProcs(), func() error {
		rep, err := rpc.Call[schemas.ValidateDeviceReply](ctx, nc, schemas.SubjectValidateDevice, req, validateTimeout)
		if err == nil && !rep.OK {
			err = fmt.Errorf("refused: %v", rep.Error)
		}
		if err == nil && sample == nil {
			sample, _ = json.Marshal(rep)
		}
		return err
	})
	if err != nil {
		return Validate{}, Validate{}, fmt.Errorf("validate-device: %w", err)
	}
	stop, err := startEcho(ctx, in.sys.NATSURL(), sample)
	if err != nil {
		return v, Validate{}, err
	}
	defer stop()
	payload, _ := json.Marshal(req)
	e, err := measureCalls(ctx, s.ValidateCount, s.ValidateBudget, in.controlProcs(), func() error {
		_, err := nc.RequestWithContext(ctx, echoSubject, payload)
		return err
	})
	if err != nil {
		return v, Validate{}, fmt.Errorf("micro echo: %w", err)
	}
	return v, e, nil
}

// echoSubject is the benchmark's own reference service, not part of HTTVPS.
const echoSubject = "_bench.echo"

// startEcho runs a NATS micro service on its own connection that answers every request with reply.
func startEcho(ctx context.Context, url string, reply []byte) (func(), error) {
	nc, err := natsx.Connect(ctx, natsx.ConnectConfig{URL: url, Name: "httvps-bench echo"}, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	svc, err := micro.AddService(nc, micro.Config{Name: "bench-echo", Version: "0.0.1"})
	if err == nil {
		err = svc.AddEndpoint("echo", micro.HandlerFunc(func(r micro.Request) { _ = r.Respond(reply) }), micro.WithEndpointSubject(echoSubject))
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("micro echo: %w", err)
	}
	return func() { _ = svc.Stop(); nc.Close() }, nil
}

// measureCalls runs call from validateParallel callers, at most count times in all and for at
// most budget; the first error stops it.
func measureCalls(ctx context.Context, count int, budget time.Duration, procs []proc, call func() error) (Validate, error) {
	deadline := time.Now().Add(budget)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	lat := make([][]time.Duration, validateParallel)
	var wg sync.WaitGroup
	cpu := watchCPU(procs)
	start := time.Now()
	for w := range validateParallel {
		wg.Go(func() {
			for next.Add(1) <= int64(count) && time.Now().Before(deadline) && ctx.Err() == nil && firstErr.Load() == nil {
				t0 := time.Now()
				if err := call(); err != nil {
					firstErr.CompareAndSwap(nil, &err)
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

// makeReports are n cumulative usage reports of sessions, round robin over users.
func makeReports(users []int64, devices []string, n, sessions int) []schemas.UsageReport {
	ids := make([]string, sessions)
	seq := make([]uint64, sessions)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	now := time.Now().UTC()
	out := make([]schemas.UsageReport, n)
	for i := range n {
		s := i % sessions
		seq[s]++
		u := s % len(users)
		out[i] = schemas.UsageReport{
			SessionID: ids[s], Seq: seq[s], GatewayID: benchGatewayID, Region: region, UserID: users[u], DeviceID: devices[u],
			BytesUp: int64(seq[s]) * 1000, BytesDown: int64(seq[s]) * 9000, DeltaUp: 1000, DeltaDown: 9000,
			StartedAt: now, ReportedAt: now,
		}
	}
	return out
}

// publishUsage puts the reports into the USAGE stream and waits until JetStream stored them all.
func publishUsage(ctx context.Context, js jetstream.JetStream, reports []schemas.UsageReport) error {
	for _, r := range reports {
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
