package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/httvps/httvps/services/httvps/system"
	"github.com/rs/zerolog"
)

const region = system.LoopbackRegion

// infra is the back end of one run, built by the system builder: embedded JetStream, a local
// PostgreSQL cluster with default (durable) settings, accounts and node-registry, an ss-server
// process as the Outline node, and the target. Gateways run in child processes.
type infra struct {
	dir    string
	sys    *system.System
	ss     *system.Process
	node   system.Node
	admin  system.Admin
	device system.Device
	target *Target
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
	if in.ss, in.node, err = system.SSServer(ctx, region); err != nil {
		return err
	}
	cfg := system.Loopback(in.dir)
	cfg.Copies = system.Copies{Accounts: 1, NodeRegistry: 1}
	cfg.Gateways = nil
	cfg.Outline = []system.Node{in.node}
	cfg.Accounts.ExpiryInterval = time.Hour
	if in.sys, err = system.Start(ctx, cfg, log); err != nil {
		return err
	}
	in.admin = in.sys.Admin()
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
	if in.sys != nil {
		_ = in.sys.Stop()
	}
	in.ss.Stop()
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
		"HTTVPS_NATS_URL=" + in.sys.NATSURL(),
		"HTTVPS_DATABASE_URL=" + in.sys.DSN(),
		"HTTVPS_LOG_LEVEL=error",
		"HTTVPS_GATEWAY_METRICS=false",
		"HTTVPS_GATEWAY_ALLOW_TARGETS=127.0.0.0/8",
		"HTTVPS_GATEWAY_CONFIG=",
		// a loopback benchmark: plain NATS and loopback targets, as the all-in-one runs them
		"HTTVPS_ENV=development",
	}
}

// postgres is the cluster's postmaster with its backends, for CPU accounting.
func (in *infra) postgres() proc {
	pid := in.sys.PostgresPID()
	return proc{Name: "PostgreSQL", PID: pid, Others: children(pid)}
}

func (in *infra) controlProcs() []proc {
	return []proc{{Name: "benchmark (services, NATS, callers)", PID: os.Getpid()}, in.postgres()}
}
