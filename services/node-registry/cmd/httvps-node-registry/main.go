// Command httvps-node-registry runs the node-registry service on its own.
package main

import (
	"fmt"
	"os"

	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

const name = "httvps-node-registry"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	cfg := noderegistry.LoadConfig(env)
	proc := app.LoadProcess(env, name, app.NATSAndDB, cfg.MetricsAddr)
	if err := env.Err(); err != nil {
		return err
	}
	return app.Run(proc, func(r app.Resources) (app.Runner, error) {
		return noderegistry.New(cfg, noderegistry.Deps{NC: r.NC, DB: r.DB, Log: r.Log, Registerer: r.Registry})
	})
}
