package rpc_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/micro"
)

func TestPoolServesConcurrentlyAndRefusesAfterClose(t *testing.T) {
	srv := testkit.NATS(t)
	nc := srv.Conn(t)
	const n = 4
	pool := rpc.NewPool(n, "echo")
	var running, peak atomic.Int64
	release := make(chan struct{})
	svc, err := micro.AddService(nc, micro.Config{Name: "pooled", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	err = svc.AddEndpoint("slow", pool.Wrap(rpc.Handle(rpc.Server{Log: testkit.Logger(t)}, "slow", func(_ context.Context, r echoReq) (echoRep, error) {
		now := running.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		<-release
		running.Add(-1)
		return echoRep{Greeting: r.Name}, nil
	})), micro.WithEndpointSubject("httvps.test.slow"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	caller := srv.Conn(t)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rpc.Call[echoRep](context.Background(), caller, "httvps.test.slow", echoReq{Name: "x"}, 10*time.Second); err != nil {
				t.Errorf("call: %v", err)
			}
		}()
	}
	testkit.Eventually(t, 10*time.Second, "all requests running at once", func() bool { return peak.Load() == n })
	close(release)
	wg.Wait()

	drained := make(chan struct{})
	go func() {
		pool.Drain(context.Background(), 20*time.Millisecond)
		pool.Close()
		close(drained)
	}()
	<-drained
	_, err = rpc.Call[echoRep](context.Background(), caller, "httvps.test.slow", echoReq{Name: "late"}, 2*time.Second)
	re, ok := rpc.AsRPCError(err)
	if !ok || re.Code != schemas.CodeBackendUnavailable {
		t.Fatalf("after close: %v, want %s", err, schemas.CodeBackendUnavailable)
	}
	if errors.Is(err, rpc.ErrUnavailable) {
		t.Fatalf("refusal should come from the service, not from NATS: %v", err)
	}
}
