package system

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/nats-io/nats.go"
)

// InfraError is a start error of NATS, the streams or PostgreSQL (Part says which), so callers
// can name their own setting in the message.
type InfraError struct {
	Part string
	Err  error
}

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

const (
	PartNATS     = "nats"
	PartStreams  = "streams"
	PartDatabase = "database"
)

func (s *System) startNATS(ctx context.Context) error {
	s.natsURLs = s.cfg.NATSURLs
	if len(s.natsURLs) == 0 {
		srv, err := natsx.StartEmbedded(s.cfg.Embedded, 15*time.Second)
		if err != nil {
			return &InfraError{PartNATS, err}
		}
		s.natsServer = srv
		s.natsURLs = []string{srv.ClientURL()}
	}
	nc, err := s.connect(ctx, "system", 0)
	if err != nil {
		return &InfraError{PartNATS, err}
	}
	s.nc = nc
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	js, err := s.JetStream()
	if err != nil {
		return &InfraError{PartStreams, err}
	}
	if err := natsx.Provision(pctx, js, s.cfg.Streams); err != nil {
		return &InfraError{PartStreams, err}
	}
	return nil
}

// connect opens a connection for copy of kind: Config.NATSFor's servers when it names any,
// else NATS URL copy mod n first, then the others in order.
func (s *System) connect(ctx context.Context, kind string, copy int) (*nats.Conn, error) {
	var urls []string
	if s.cfg.NATSFor != nil {
		urls = s.cfg.NATSFor(kind, copy)
	}
	if len(urls) == 0 {
		n := len(s.natsURLs)
		urls = append(append([]string{}, s.natsURLs[copy%n:]...), s.natsURLs[:copy%n]...)
	}
	var auth natsx.Auth
	if s.cfg.NATSAuth != nil {
		auth = s.cfg.NATSAuth(kind, copy)
	}
	name := fmt.Sprintf("httvps %s-%d", kind, copy+1)
	return natsx.Connect(ctx, natsx.ConnectConfig{URL: strings.Join(urls, ","), Name: name, Auth: auth, InOrder: true, ReconnectWait: 100 * time.Millisecond}, s.log)
}

func (s *System) startDatabase(ctx context.Context) error {
	s.dsn = s.cfg.DatabaseURL
	if s.dsn == "" {
		pg := s.cfg.Postgres
		dir, err := pglocal.DataDir(pg.Dir)
		if err != nil {
			return &InfraError{PartDatabase, fmt.Errorf("local postgres in %s: %w", pg.Dir, err)}
		}
		cluster, err := pglocal.StartCluster(ctx, dir, pg.Port, pg.Log)
		if err != nil {
			return &InfraError{PartDatabase, fmt.Errorf("local postgres in %s: %w", dir, err)}
		}
		s.pgDir = dir
		s.cluster = cluster
		if err := cluster.CreateDatabase(ctx, pg.Database); err != nil {
			return &InfraError{PartDatabase, fmt.Errorf("local postgres: %w", err)}
		}
		s.dsn = cluster.DSN(pg.Database)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bdb, err := db.Open(dctx, s.dsn, s.cfg.Pool)
	if err != nil {
		return &InfraError{PartDatabase, err}
	}
	s.db = bdb
	if err := migrations.Up(dctx, bdb); err != nil {
		return &InfraError{PartDatabase, fmt.Errorf("migrations: %w", err)}
	}
	return nil
}

func (s *System) closeInfra() {
	if s.nc != nil {
		s.nc.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
	if s.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.cluster.Stop(ctx); err != nil {
			s.log.Warn().Err(err).Msg("stop local postgres")
		}
		cancel()
	}
	if s.natsServer != nil {
		s.natsServer.Shutdown()
		s.natsServer.WaitForShutdown()
	}
}

// PostgresDir is where the local cluster keeps its data: the configured directory, or the
// per-clone one pglocal.DataDir chose because the postgres OS user cannot reach it.
func (s *System) PostgresDir() string { return s.pgDir }
