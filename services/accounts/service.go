package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts/internal/token"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const (
	Version     = "1.0.0"
	drainQuiet  = 50 * time.Millisecond
	flushBudget = 5 * time.Second
)

type Deps struct {
	NC         *nats.Conn
	DB         *bun.DB
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

type Service struct {
	cfg      Config
	nc       *nats.Conn
	db       *bun.DB
	log      zerolog.Logger
	m        *metrics
	tokens   *token.Signer
	states   *stateReader
	lastSeen *lastSeen
	events   events
	workers  *rpc.Pool
	ready    chan struct{}
}

func New(cfg Config, deps Deps) (*Service, error) {
	switch {
	case deps.NC == nil:
		return nil, errors.New("accounts: NATS connection is required")
	case deps.DB == nil:
		return nil, errors.New("accounts: database is required")
	case deps.Registerer == nil:
		return nil, errors.New("accounts: Prometheus registerer is required")
	case cfg.Workers <= 0 || cfg.LastSeenBatch <= 0:
		return nil, errors.New("accounts: Workers and LastSeenBatch must be positive")
	case cfg.ExpiryInterval <= 0 || cfg.LastSeenInterval <= 0 || cfg.RequestTimeout <= 0:
		return nil, errors.New("accounts: ExpiryInterval, LastSeenInterval and RequestTimeout must be positive")
	}
	tokens, err := token.NewSigner(cfg.SecretKey, cfg.TokenTTL)
	if err != nil {
		return nil, fmt.Errorf("accounts: %s: %w", EnvSecretKey, err)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	log := logging.For(deps.Log, schemas.ServiceAccounts)
	js, err := jetstream.New(deps.NC)
	if err != nil {
		return nil, fmt.Errorf("accounts: jetstream: %w", err)
	}
	return &Service{
		cfg:      cfg,
		nc:       deps.NC,
		db:       deps.DB,
		log:      log,
		m:        m,
		tokens:   tokens,
		states:   &stateReader{db: deps.DB.DB},
		lastSeen: newLastSeen(deps.DB, log.With().Str(logging.FieldComponent, "last_seen").Logger(), m, cfg.LastSeenBatch),
		events:   events{js: js, timeout: cfg.RequestTimeout, log: log, m: m},
		ready:    make(chan struct{}),
	}, nil
}

// Ready is closed once the endpoints are subscribed and the server has seen the subscriptions.
func (s *Service) Ready() <-chan struct{} { return s.ready }

func (s *Service) Run(ctx context.Context) error {
	s.workers = rpc.NewPool(s.cfg.Workers, schemas.ServiceAccounts)
	svc, err := s.startMicro(context.WithoutCancel(ctx))
	if err != nil {
		s.workers.Close()
		return err
	}
	if err := s.nc.FlushTimeout(flushBudget); err != nil {
		s.log.Warn().Err(err).Msg("nats flush after subscribing")
	}
	s.log.Info().Int("workers", s.cfg.Workers).Msg("accounts serving")
	close(s.ready)

	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { s.runSweeper(bgCtx) })
	bg.Go(func() { s.lastSeen.run(bgCtx, s.cfg.LastSeenInterval) })

	<-ctx.Done()
	s.log.Info().Msg("accounts stopping")
	if err := svc.Stop(); err != nil {
		s.log.Warn().Err(err).Msg("stop micro service")
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	s.workers.Drain(drainCtx, drainQuiet)
	cancel()
	s.workers.Close()
	stopBackground()
	bg.Wait()

	flushCtx, cancel := context.WithTimeout(context.Background(), flushBudget)
	defer cancel()
	if err := s.lastSeen.flush(flushCtx); err != nil {
		s.log.Error().Err(err).Msg("final last_seen_at flush")
	}
	s.states.close()
	s.log.Info().Msg("accounts stopped")
	return nil
}

func (s *Service) startMicro(base context.Context) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        schemas.ServiceAccounts,
		Version:     Version,
		Description: "HTTVPS accounts: device validation and admin commands for users, plans, subscriptions, devices",
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			s.log.Error().Str(logging.FieldSubject, e.Subject).Str(logging.FieldReason, e.Description).Msg("micro error")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("accounts: add micro service: %w", err)
	}
	srv := rpc.Server{Ctx: base, Log: s.log, Metrics: s.m.rpc, Timeout: s.cfg.RequestTimeout}
	type endpoint struct {
		name, subject string
		handler       micro.Handler
	}
	endpoints := []endpoint{{"validate-device", schemas.SubjectValidateDevice, rpc.Handle(srv, "validate-device", s.validateDevice)}}
	cmds, handlers, err := schemas.BindAdmin(schemas.ServiceAccounts, s.adminHandlers())
	if err != nil {
		_ = svc.Stop()
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for i, c := range cmds {
		endpoints = append(endpoints, endpoint{c.EndpointName(), c.Subject(), rpc.HandleAdmin(srv, c.EndpointName(), handlers[i])})
	}
	for _, e := range endpoints {
		if err := svc.AddEndpoint(e.name, s.workers.Wrap(e.handler), micro.WithEndpointSubject(e.subject)); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("accounts: add endpoint %s: %w", e.name, err)
		}
	}
	return svc, nil
}
