package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/services/client/internal/stack"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/pglocal"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

const (
	region   = "bench-1"
	database = "httvps_bench"
)

// infra is the back end of one run: embedded JetStream, a local PostgreSQL cluster with default
// (durable) settings, accounts and node-registry, an ss-server and the target.
type infra struct {
	dir     string
	nats    *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	cluster *pglocal.Cluster
	db      *bun.DB
	cp      stack.ControlPlane
	svcs    *stack.Services
	ss      *stack.Process
	node    stack.Node
	admin   stack.Admin
	device  stack.Device
	target  *Target
}

func startInfra(ctx context.Context, log zerolog.Logger, progress io.Writer) (*infra, error) {
	in := &infra{}
	if err := in.start(ctx, log, progress); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

func (in *infra) start(ctx context.Context, log zerolog.Logger, progress io.Writer) (err error) {
	if in.dir, err = os.MkdirTemp("", "httvps-bench-"); err != nil {
		return err
	}
	if err = os.Chmod(in.dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(progress, "starting NATS, PostgreSQL, accounts, node-registry, ss-server ...")
	in.nats, err = natsx.StartEmbedded(natsx.EmbeddedConfig{Host: "127.0.0.1", Port: 0, StoreDir: filepath.Join(in.dir, "nats"), ServerName: "httvps-bench"}, 15*time.Second)
	if err != nil {
		return err
	}
	if in.nc, err = natsx.Connect(ctx, natsx.ConnectConfig{URL: in.nats.ClientURL(), Name: "httvps-bench"}, log); err != nil {
		return err
	}
	if in.js, err = jetstream.New(in.nc); err != nil {
		return err
	}
	if err = natsx.Provision(ctx, in.js, natsx.DefaultStreams()); err != nil {
		return err
	}
	if in.cluster, err = pglocal.StartCluster(ctx, filepath.Join(in.dir, "pg"), 0, io.Discard); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err = in.cluster.CreateDatabase(ctx, database); err != nil {
		return err
	}
	pool := db.DefaultPool()
	pool.MaxOpenConns, pool.MaxIdleConns = 64, 64
	if in.db, err = db.Open(ctx, in.cluster.DSN(database), pool); err != nil {
		return err
	}
	if err = migrations.Up(ctx, in.db); err != nil {
		return err
	}
	in.cp = stack.ControlPlane{NC: in.nc, DB: in.db, Log: log}
	if in.svcs, err = in.cp.Start(ctx); err != nil {
		return err
	}
	if in.ss, in.node, err = stack.SSServer(ctx); err != nil {
		return err
	}
	in.admin = stack.Admin{NC: in.nc}
	if err = in.admin.Region(ctx, region, in.node); err != nil {
		return err
	}
	if in.device, err = in.admin.Subscriber(ctx, "bench", 10); err != nil {
		return err
	}
	if in.target, err = StartTarget(); err != nil {
		return err
	}
	return nil
}

func (in *infra) close() {
	if in.target != nil {
		in.target.Stop()
	}
	in.ss.Stop()
	if in.svcs != nil {
		_ = in.svcs.Stop()
	}
	if in.db != nil {
		_ = in.db.Close()
	}
	if in.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = in.cluster.Stop(ctx)
		cancel()
	}
	if in.nc != nil {
		in.nc.Close()
	}
	if in.nats != nil {
		in.nats.Shutdown()
		in.nats.WaitForShutdown()
	}
	if in.dir != "" {
		_ = os.RemoveAll(in.dir)
	}
}

// gatewayEnv is the environment of a gateway child.
func (in *infra) gatewayEnv(name string) []string {
	return []string{
		"HTTVPS_GATEWAY_ID=gw-bench-" + name,
		"HTTVPS_GATEWAY_REGION=" + region,
		"HTTVPS_GATEWAY_LISTEN=127.0.0.1:0",
		"HTTVPS_GATEWAY_TLS_DIR=" + filepath.Join(in.dir, "tls"),
		"HTTVPS_NATS_URL=" + in.nats.ClientURL(),
		"HTTVPS_LOG_LEVEL=error",
		"HTTVPS_GATEWAY_METRICS=false",
		"HTTVPS_GATEWAY_ALLOW_TARGETS=127.0.0.0/8",
		"HTTVPS_GATEWAY_CONFIG=",
	}
}

// postgres is the cluster's postmaster with its backends, for CPU accounting.
func (in *infra) postgres() proc {
	data, err := os.ReadFile(filepath.Join(in.dir, "pg", "postmaster.pid"))
	if err != nil {
		return proc{Name: "PostgreSQL"}
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	return proc{Name: "PostgreSQL", PID: pid, Others: children(pid)}
}

func (in *infra) controlProcs() []proc {
	return []proc{{Name: "benchmark (services, NATS, callers)", PID: os.Getpid()}, in.postgres()}
}
