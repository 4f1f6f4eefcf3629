package jsconsume_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLoopAcksAfterStoreTerminatesMalformedAndRetriesFailures(t *testing.T) {
	srv := testkit.NATS(t)
	js := srv.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subject := schemas.UsageSubject("eu-1", "gw-1")
	payloads := []string{`{"session_id":"a","seq":1}`, `not json`, `{"session_id":"b","seq":2}`, `{"session_id":"c","seq":3,"bogus":true}`, `{"session_id":"d","seq":4}`}
	for _, p := range payloads {
		if _, err := js.Publish(ctx, subject, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.Consumer(ctx, schemas.StreamUsage, schemas.ConsumerUsageAggregator)
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := jsconsume.NewMetrics(prometheus.NewRegistry(), "test")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	stored := map[string]int{}
	failures := 1
	loop := &jsconsume.Loop[schemas.UsageReport]{
		Name:     "usage",
		Consumer: cons,
		Decode: func(m jetstream.Msg) (schemas.UsageReport, error) {
			var r schemas.UsageReport
			return r, rpc.Decode(m.Data(), &r)
		},
		Handle: func(_ context.Context, items []jsconsume.Item[schemas.UsageReport]) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return fmt.Errorf("database down")
			}
			for _, it := range items {
				stored[it.Value.SessionID]++
			}
			return nil
		},
		BatchSize: 10,
		MaxWait:   100 * time.Millisecond,
		NakDelay:  50 * time.Millisecond,
		Log:       testkit.Logger(t),
		Metrics:   metrics,
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- loop.Run(runCtx) }()
	testkit.Eventually(t, 10*time.Second, "all good messages stored", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(stored) == 3
	})
	testkit.Eventually(t, 10*time.Second, "nothing left pending", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, id := range []string{"a", "b", "d"} {
		if stored[id] != 1 {
			t.Fatalf("session %s stored %d times, want once: %v", id, stored[id], stored)
		}
	}
	if got := testutil.ToFloat64(metrics.Messages.WithLabelValues("usage", "term")); got != 2 {
		t.Fatalf("terminated = %v, want 2", got)
	}
	if got := testutil.ToFloat64(metrics.Messages.WithLabelValues("usage", "nak")); got != 3 {
		t.Fatalf("nak = %v, want 3", got)
	}
}

func TestOpen(t *testing.T) {
	js := testkit.NATS(t).JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	decode := func(jetstream.Msg) (string, error) { return "", nil }
	handle := func(context.Context, []jsconsume.Item[string]) error { return nil }
	opts := jsconsume.Options{BatchSize: 7, MaxWait: time.Second, NakDelay: 2 * time.Second}

	loop, err := jsconsume.Open(ctx, js, schemas.StreamUsage, schemas.ConsumerUsageAggregator, decode, handle, opts)
	if err != nil {
		t.Fatal(err)
	}
	if loop.Name != schemas.ConsumerUsageAggregator || loop.Consumer == nil || loop.BatchSize != 7 || loop.MaxWait != time.Second || loop.NakDelay != 2*time.Second {
		t.Fatalf("loop = %+v", loop)
	}

	_, err = jsconsume.Open(ctx, js, schemas.StreamUsage, "nobody", decode, handle, opts)
	if err == nil || !strings.Contains(err.Error(), "consumer nobody on "+schemas.StreamUsage) {
		t.Fatalf("err = %v, want it to name the consumer and the stream", err)
	}
}
