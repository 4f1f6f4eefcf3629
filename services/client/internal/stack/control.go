// Package stack starts the real HTTVPS services the client's integration tests and the
// benchmark run against: accounts, node-registry, usage-aggregator and the gateway, plus an
// ss-server process as the Outline node, seeded through the admin NATS subjects.
package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const (
	readyTimeout = 15 * time.Second
	pollEvery    = 20 * time.Millisecond
	// SecretKey signs access tokens in tests and benchmarks only.
	SecretKey = "httvps-client-stack-secret-0123456789abcdef"
)

// Services are the control-plane services running until Stop.
type Services struct {
	Accounts *accounts.Service
	stops    []func() error
	stopAgg  func() error
}

// ControlPlane picks which services to run.
type ControlPlane struct {
	NC         *nats.Conn
	DB         *bun.DB
	Log        zerolog.Logger
	Aggregator bool
	// Tune adjusts the accounts config (e.g. workers) before New.
	TuneAccounts func(*accounts.Config)
	TuneAgg      func(*usageaggregator.Config)
}

type runner interface {
	Run(ctx context.Context) error
}

// Start runs accounts and node-registry (and the usage-aggregator when asked) and waits until
// they answer on NATS.
func (cp ControlPlane) Start(ctx context.Context) (*Services, error) {
	s := &Services{}
	acfg := accounts.DefaultConfig()
	acfg.SecretKey = []byte(SecretKey)
	acfg.ExpiryInterval = time.Hour
	if cp.TuneAccounts != nil {
		cp.TuneAccounts(&acfg)
	}
	acc, err := accounts.New(acfg, accounts.Deps{NC: cp.NC, DB: cp.DB, Log: cp.Log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		return nil, err
	}
	s.Accounts = acc
	s.run(acc)
	select {
	case <-acc.Ready():
	case <-time.After(readyTimeout):
		s.Stop()
		return nil, errors.New("accounts not ready")
	}
	ncfg := noderegistry.DefaultConfig()
	ncfg.FetchWait = 100 * time.Millisecond
	reg, err := noderegistry.New(ncfg, noderegistry.Deps{NC: cp.NC, DB: cp.DB, Log: cp.Log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.run(reg)
	if err := waitAnswers(ctx, cp.NC, schemas.AdminSubject(schemas.ResourceRegions, schemas.VerbList)); err != nil {
		s.Stop()
		return nil, fmt.Errorf("node-registry: %w", err)
	}
	if cp.Aggregator {
		if err := s.StartAggregator(cp); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// StartAggregator runs the usage-aggregator as well (it stops with the others).
func (s *Services) StartAggregator(cp ControlPlane) error {
	cfg := usageaggregator.DefaultConfig()
	cfg.FetchWait = 100 * time.Millisecond
	if cp.TuneAgg != nil {
		cp.TuneAgg(&cfg)
	}
	agg, err := usageaggregator.New(cfg, usageaggregator.Deps{NC: cp.NC, DB: cp.DB, Log: cp.Log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		return err
	}
	s.stopAgg = s.run(agg)
	return waitAnswers(context.Background(), cp.NC, schemas.AdminSubject(schemas.ResourceSessions, schemas.VerbList))
}

// StopAggregator stops the usage-aggregator (gateways then refuse new sessions: it owns the slots).
func (s *Services) StopAggregator() error {
	if s.stopAgg == nil {
		return nil
	}
	return s.stopAgg()
}

func (s *Services) run(svc runner) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = svc.Run(ctx) })
	stop := func() error {
		cancel()
		wg.Wait()
		return runErr
	}
	s.stops = append(s.stops, stop)
	return stop
}

// Stop ends the services in reverse order.
func (s *Services) Stop() error {
	var errs []error
	for i := len(s.stops) - 1; i >= 0; i-- {
		errs = append(errs, s.stops[i]())
	}
	s.stops = nil
	return errors.Join(errs...)
}

func waitAnswers(ctx context.Context, nc *nats.Conn, subject string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		_, err := rpc.Call[schemas.AdminReply](ctx, nc, subject, schemas.AdminRequest{}, time.Second)
		if !errors.Is(err, rpc.ErrUnavailable) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s within %s", subject, readyTimeout)
		}
		time.Sleep(pollEvery)
	}
}
