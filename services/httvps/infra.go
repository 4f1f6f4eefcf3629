package httvps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const localDatabase = "httvps"

type infra struct {
	natsServer *server.Server
	nc         *nats.Conn
	js         jetstream.JetStream
	cluster    *pglocal.Cluster
	db         *bun.DB
	natsURL    string
	dsn        string
	pgDir      string
	pgLog      io.Closer
}

func openPostgresLog(dataDir string) (*os.File, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	return f, nil
}

func startInfra(ctx context.Context, cfg Config, log zerolog.Logger, pgLog io.Writer) (*infra, error) {
	in := &infra{}
	if err := in.startNATS(ctx, cfg, log); err != nil {
		in.close(ctx, log)
		return nil, err
	}
	if err := in.startDatabase(ctx, cfg, pgLog); err != nil {
		in.close(ctx, log)
		return nil, err
	}
	return in, nil
}

func (in *infra) startNATS(ctx context.Context, cfg Config, log zerolog.Logger) error {
	in.natsURL = cfg.NATSURL
	if in.natsURL == "" {
		host, portStr, _ := net.SplitHostPort(cfg.NATSListen)
		port, _ := strconv.Atoi(portStr)
		srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
			Host: host, Port: port, StoreDir: cfg.natsStoreDir(), ServerName: "httvps-dev",
		}, 15*time.Second)
		if err != nil {
			if errors.Is(err, natsx.ErrPortTaken) {
				return fmt.Errorf("%s: port %d is taken (stop what listens there or set %s)", EnvNATSListen, port, EnvNATSListen)
			}
			return fmt.Errorf("%s: %w", EnvNATSListen, err)
		}
		in.natsServer = srv
		in.natsURL = srv.ClientURL()
	}
	nc, err := natsx.Connect(ctx, natsx.ConnectConfig{URL: in.natsURL, Name: "httvps"}, log)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvNATSURL, err)
	}
	in.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	in.js = js
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := natsx.Provision(pctx, js, cfg.Streams); err != nil {
		return fmt.Errorf("%s: %w", EnvNATSReplicas, err)
	}
	return nil
}

func (in *infra) startDatabase(ctx context.Context, cfg Config, pgLog io.Writer) error {
	in.dsn = cfg.DatabaseURL
	if in.dsn == "" {
		dir, err := pglocal.DataDir(cfg.postgresDir())
		if err != nil {
			return fmt.Errorf("local postgres in %s: %w", cfg.postgresDir(), err)
		}
		cluster, err := pglocal.StartCluster(ctx, dir, cfg.LocalPGPort, pgLog)
		if err != nil {
			return fmt.Errorf("local postgres in %s (port %s=%d): %w", dir, EnvLocalPGPort, cfg.LocalPGPort, err)
		}
		in.pgDir = dir
		in.cluster = cluster
		if err := cluster.CreateDatabase(ctx, localDatabase); err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		in.dsn = cluster.DSN(localDatabase)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	bdb, err := db.Open(dctx, in.dsn, cfg.Pool)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvDatabaseURL, err)
	}
	in.db = bdb
	if err := migrations.Up(dctx, bdb); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

func (in *infra) close(ctx context.Context, log zerolog.Logger) {
	if in.nc != nil {
		app.CloseNATS(in.nc, 5*time.Second, log)
	}
	if in.db != nil {
		_ = in.db.Close()
	}
	if in.cluster != nil {
		if err := in.cluster.Stop(ctx); err != nil {
			log.Warn().Err(err).Msg("stop local postgres")
		}
	}
	if in.natsServer != nil {
		in.natsServer.Shutdown()
		in.natsServer.WaitForShutdown()
	}
	if in.pgLog != nil {
		_ = in.pgLog.Close()
	}
}
