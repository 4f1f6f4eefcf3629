package usageaggregator

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"sync"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const (
	ServiceName    = schemas.ServiceUsageAggregator
	ServiceVersion = "0.1.0"
)

type Deps struct {
	NC         *nats.Conn
	DB         *bun.DB
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

type Service struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
	db  *bun.DB
	log zerolog.Logger
	m   *metrics

	slotMetrics *slotMetrics
}

func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.NC == nil:
		return nil, errors.New("usage-aggregator: Deps.NC is required")
	case deps.DB == nil:
		return nil, errors.New("usage-aggregator: Deps.DB is required")
	case deps.Registerer == nil:
		return nil, errors.New("usage-aggregator: Deps.Registerer is required")
	}
	js, err := jetstream.New(deps.NC)
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: jetstream: %w", err)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	sm, err := newSlotMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, nc: deps.NC, js: js, db: deps.DB, log: logging.For(deps.Log, ServiceName), m: m, slotMetrics: sm}, nil
}

// Run consumes usage and session events, sweeps sessions of lost gateways and serves the admin
// commands until ctx is done; then it stops the admin endpoints and lets the batch in flight finish.
func (s *Service) Run(ctx context.Context) error {
	usage := s.waitConsumer(ctx, schemas.StreamUsage, schemas.ConsumerUsageAggregator)
	sessions := s.waitConsumer(ctx, schemas.StreamSessions, schemas.ConsumerSessionsAggregator)
	if ctx.Err() != nil {
		return nil
	}
	admin, err := s.startAdmin(ctx)
	if err != nil {
		return err
	}
	slots, err := s.startSlots(ctx)
	if err != nil {
		_ = admin.Stop()
		return err
	}
	usageLoop := newPipeline(s, schemas.ConsumerUsageAggregator, usage, decodeUsage,
		func(t sessionTotals) string { return t.SessionID }, s.handleUsage)
	sessionLoop := newPipeline(s, schemas.ConsumerSessionsAggregator, sessions, decodeSessionEvent,
		func(e sessionEvent) string { return e.Meta.SessionID }, s.handleSessions)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{
		usageLoop.run,
		sessionLoop.run,
		s.runSweeper,
		s.runSlotPurge,
		s.runBoots,
		func(ctx context.Context) error { return s.pollPending(ctx, usage, sessions) },
	} {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				s.log.Error().Err(err).Msg("worker stopped")
			}
		})
	}
	s.log.Info().Int("batch", s.cfg.BatchSize).Dur("gateway_timeout", s.cfg.GatewayTimeout).Msg("usage-aggregator running")
	<-ctx.Done()
	if err := admin.Stop(); err != nil {
		s.log.Warn().Err(err).Msg("stop admin endpoints")
	}
	if err := slots.Stop(); err != nil {
		s.log.Warn().Err(err).Msg("stop slot endpoints")
	}
	wg.Wait()
	s.log.Info().Msg("usage-aggregator stopped")
	return nil
}

// waitConsumer waits for the durable to exist (deployment provisions streams and consumers); it
// returns nil only when ctx is done.
func (s *Service) waitConsumer(ctx context.Context, stream, name string) jetstream.Consumer {
	for ctx.Err() == nil {
		c, err := s.js.Consumer(ctx, stream, name)
		if err == nil {
			return c
		}
		s.log.Warn().Err(err).Str("consumer", name).Str("stream", stream).Msg("durable consumer not available yet, retrying")
		pause.For(ctx, s.cfg.NakDelay)
	}
	return nil
}

func (s *Service) inTx(ctx context.Context, op string, fn func(ctx context.Context, tx bun.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DBTimeout)
	defer cancel()
	if err := s.db.RunInTx(ctx, nil, fn); err != nil {
		s.m.dbErrors.WithLabelValues(op).Inc()
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
