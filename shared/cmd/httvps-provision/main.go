// Command httvps-provision creates or updates the HTTVPS JetStream streams and durable consumers
// with the provisioner's NATS identity: the deployment step before the services start.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/provision"
)

const usage = "usage: httvps-provision up\n" +
	"  up  create or update every stream and durable consumer; running it again changes nothing\n" +
	"NATS is taken from " + natsx.EnvURL + " with the provisioner's seed in " + natsx.EnvNkeyFile +
	" and the servers' CA in " + natsx.EnvCAFile + "; replicas from " + natsx.EnvReplicas +
	" (3, the only value production takes); " + provision.EnvTimeout + " bounds the wait for the cluster (default 1m).\n"

var errUsage = errors.New("expected one command: up")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-provision:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCommand(ctx, os.Args[1:], config.FromOS(), os.Stdout)
}

func runCommand(ctx context.Context, args []string, env *config.Env, out io.Writer) error {
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		_, err := fmt.Fprint(out, usage)
		return err
	}
	if len(args) != 1 || args[0] != "up" {
		return fmt.Errorf("%w (%s -h for help)", errUsage, "httvps-provision")
	}
	cfg := provision.LoadConfig(env)
	if err := env.Err(); err != nil {
		return err
	}
	return provision.Run(ctx, cfg, out)
}
