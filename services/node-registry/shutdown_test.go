package noderegistry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/httvps/httvps/schemas"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

func TestRunStopsOnCancel(t *testing.T) {
	h := newHarness(t)
	svc, err := noderegistry.New(fastConfig(), noderegistry.Deps{
		NC: h.nats.Conn(t), DB: h.db, Log: testkit.Logger(t), Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = svc.Run(ctx) })
	list := func() error {
		_, err := rpc.Call[schemas.AdminReply](context.Background(), h.nc,
			schemas.AdminSubject(schemas.ResourceRegions, schemas.VerbList), schemas.AdminRequest{}, callTimeout)
		return err
	}
	testkit.Eventually(t, waitTimeout, "serving", func() bool { return list() == nil })
	cancel()
	wg.Wait()
	if runErr != nil {
		t.Fatalf("run: %v", runErr)
	}
	if err := list(); !errors.Is(err, rpc.ErrUnavailable) {
		t.Fatalf("after stop: err = %v, want unavailable", err)
	}
}

func TestRunNeedsTheDurables(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.js.DeleteConsumer(ctx, schemas.StreamSessions, schemas.ConsumerSessionsRegistry); err != nil {
		t.Fatal(err)
	}
	svc, err := noderegistry.New(fastConfig(), noderegistry.Deps{NC: h.nc, DB: h.db, Log: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), schemas.ConsumerSessionsRegistry) {
		t.Fatalf("run = %v, want an error naming %s", err, schemas.ConsumerSessionsRegistry)
	}
}
