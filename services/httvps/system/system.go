package system

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

// System is a running HTTVPS. Start builds it; Stop (or Run's end) shuts every unit down in
// the reverse order of its start, then PostgreSQL and NATS.
type System struct {
	cfg        Config
	log        zerolog.Logger
	natsServer *server.Server
	natsURLs   []string
	nc         *nats.Conn
	cluster    *pglocal.Cluster
	pgDir      string
	db         *bun.DB
	dsn        string
	failed     chan error

	mu          sync.Mutex
	started     []stopper
	accounts    []*Unit[*accounts.Service]
	registries  []*Unit[*noderegistry.Service]
	aggregators []*Unit[*usageaggregator.Service]
	edges       []*Unit[*edge.Service]
	gateways    []*Unit[*gateway.Service]
	agents      []*Unit[*outlineagent.Service]
	stopOnce    sync.Once
	stopErr     error
}

// Start brings up NATS and PostgreSQL, the control-plane copies (each ready before the next
// kind starts), registers cfg.Outline, then the edges and the gateways.
func Start(ctx context.Context, cfg Config, log zerolog.Logger) (*System, error) {
	s := &System{cfg: cfg, log: log, failed: make(chan error, 16)}
	if s.cfg.ReadyTimeout <= 0 {
		s.cfg.ReadyTimeout = 30 * time.Second
	}
	if s.cfg.ShutdownTimeout <= 0 {
		s.cfg.ShutdownTimeout = 15 * time.Second
	}
	if err := s.start(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *System) start(ctx context.Context) error {
	if err := s.startNATS(ctx); err != nil {
		return err
	}
	if err := s.startDatabase(ctx); err != nil {
		return err
	}
	c := s.cfg.Copies
	for range c.Accounts {
		if _, err := s.StartAccounts(ctx); err != nil {
			return err
		}
	}
	for range c.NodeRegistry {
		if _, err := s.StartNodeRegistry(ctx); err != nil {
			return err
		}
	}
	for range c.Aggregator {
		if _, err := s.StartAggregator(ctx); err != nil {
			return err
		}
	}
	for _, n := range s.cfg.Outline {
		if _, err := s.Admin().EnsureNode(ctx, n); err != nil {
			return fmt.Errorf("register outline node %s:%d: %w", n.IP, n.Port, err)
		}
	}
	for range c.Edge {
		if _, err := s.StartEdge(ctx); err != nil {
			return err
		}
	}
	for _, g := range s.cfg.Gateways {
		if _, err := s.StartGateway(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// Run waits until ctx ends or a unit fails, then stops the system; it returns the failure or
// the shutdown's error.
func (s *System) Run(ctx context.Context) error {
	var runErr error
	select {
	case <-ctx.Done():
		s.log.Info().Msg("shutting down")
	case runErr = <-s.failed:
		s.log.Error().Err(runErr).Msg("a component failed, shutting down")
	}
	if err := s.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// Failed delivers the error of a unit whose Run returned without being stopped.
func (s *System) Failed() <-chan error { return s.failed }

// Stop shuts the units down in reverse start order, then PostgreSQL and NATS; it is idempotent.
func (s *System) Stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		started := append([]stopper(nil), s.started...)
		s.mu.Unlock()
		var errs []error
		for i := len(started) - 1; i >= 0; i-- {
			errs = append(errs, started[i].Stop())
		}
		s.closeInfra()
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Config is what the system was started with.
func (s *System) Config() Config { return s.cfg }

// NATSURL is the comma-separated list of the NATS servers.
func (s *System) NATSURL() string { return strings.Join(s.natsURLs, ",") }

func (s *System) NATSURLs() []string { return append([]string(nil), s.natsURLs...) }

// NATS is the system's own connection (stream provisioning, registration of nodes).
func (s *System) NATS() *nats.Conn { return s.nc }

func (s *System) JetStream() (jetstream.JetStream, error) { return jetstream.New(s.nc) }

func (s *System) DSN() string { return s.dsn }

func (s *System) DB() *bun.DB { return s.db }

// PostgresPID is the local cluster's postmaster, 0 when the database was given.
func (s *System) PostgresPID() int {
	if s.cluster == nil {
		return 0
	}
	return s.cluster.PID()
}

// Admin sends admin commands on the system's connection, as the edge does.
func (s *System) Admin() Admin { return Admin{NC: s.nc, Timeout: 10 * time.Second} }

// Gatherers are the metrics registries of every unit started so far.
func (s *System) Gatherers() prometheus.Gatherers {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := prometheus.Gatherers{}
	for _, u := range s.started {
		g = append(g, u.gatherer())
	}
	return g
}

func (s *System) Accounts() []*Unit[*accounts.Service] { return snapshot(&s.mu, s.accounts) }

func (s *System) NodeRegistries() []*Unit[*noderegistry.Service] {
	return snapshot(&s.mu, s.registries)
}

func (s *System) Aggregators() []*Unit[*usageaggregator.Service] {
	return snapshot(&s.mu, s.aggregators)
}

func (s *System) Edges() []*Unit[*edge.Service] { return snapshot(&s.mu, s.edges) }

func (s *System) Gateways() []*Unit[*gateway.Service] { return snapshot(&s.mu, s.gateways) }

func (s *System) OutlineAgents() []*Unit[*outlineagent.Service] { return snapshot(&s.mu, s.agents) }

func snapshot[T any](mu *sync.Mutex, units []T) []T {
	mu.Lock()
	defer mu.Unlock()
	return append([]T(nil), units...)
}
