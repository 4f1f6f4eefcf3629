// Package noderegistry is the node-registry service: it owns regions, outline nodes and gateway
// nodes, keeps their health from heartbeats, counts sessions per outline node and assigns the
// least loaded healthy outline node of a region.
package noderegistry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/node-registry/internal/store"
	"github.com/httvps/httvps/shared/jsconsume"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

// Version is announced in the micro service info.
const Version = "0.1.0"

type Deps struct {
	NC         *nats.Conn
	DB         *bun.DB
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

type Service struct {
	cfg     Config
	nc      *nats.Conn
	store   *store.Store
	log     zerolog.Logger
	metrics *metrics
}

func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.NC == nil || deps.DB == nil {
		return nil, errors.New("node-registry: NATS connection and database are required")
	}
	reg := deps.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("node-registry: %w", err)
	}
	return &Service{
		cfg:     cfg,
		nc:      deps.NC,
		store:   store.New(deps.DB),
		log:     logging.For(deps.Log, schemas.ServiceNodeRegistry),
		metrics: m,
	}, nil
}

// Run serves the micro endpoints, consumes heartbeats and session events and sweeps silent
// nodes until ctx is done; then it stops the endpoints, lets the consumers finish their batch
// and returns.
func (s *Service) Run(ctx context.Context) error {
	js, err := jetstream.New(s.nc)
	if err != nil {
		return fmt.Errorf("node-registry: jetstream: %w", err)
	}
	opts := jsconsume.Options{BatchSize: s.cfg.BatchSize, MaxWait: s.cfg.FetchWait, NakDelay: s.cfg.NakDelay, Log: s.log, Metrics: s.metrics.consumer}
	heartbeats, err := jsconsume.Open(ctx, js, schemas.StreamHeartbeats, schemas.ConsumerHeartbeatsRegistry, decodeHeartbeat, s.storeHeartbeats, opts)
	if err != nil {
		return fmt.Errorf("node-registry: %w", err)
	}
	sessions, err := jsconsume.Open(ctx, js, schemas.StreamSessions, schemas.ConsumerSessionsRegistry, decodeSessionEvent, s.storeSessionEvents, opts)
	if err != nil {
		return fmt.Errorf("node-registry: %w", err)
	}
	dials, err := s.subscribeDials(ctx)
	if err != nil {
		return err
	}
	pool := rpc.NewPool(s.cfg.Workers, schemas.ServiceNodeRegistry)
	svc, err := s.startMicro(ctx, pool)
	if err != nil {
		_ = dials.Unsubscribe()
		return err
	}
	s.log.Info().Dur(fieldOfflineAfter, s.cfg.OfflineAfter()).Msg("node-registry started")

	var wg sync.WaitGroup
	wg.Go(func() { _ = heartbeats.Run(ctx) })
	wg.Go(func() { _ = sessions.Run(ctx) })
	wg.Go(func() { s.runSweeper(ctx) })

	<-ctx.Done()
	if err := dials.Drain(); err != nil {
		s.log.Warn().Err(err).Msg("drain dial reports")
	}
	if err := svc.Stop(); err != nil {
		s.log.Warn().Err(err).Msg("stop micro service")
	}
	pool.Close()
	wg.Wait()
	s.log.Info().Msg("node-registry stopped")
	return nil
}
