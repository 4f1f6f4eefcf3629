// Command httvps-usage-aggregator runs the usage-aggregator service on its own.
package main

import (
	"fmt"
	"os"

	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

const name = "httvps-usage-aggregator"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	cfg := usageaggregator.LoadConfig(env)
	proc := app.LoadProcess(env, name, app.NATSAndDB, cfg.MetricsAddr)
	if err := env.Err(); err != nil {
		return err
	}
	return app.Run(proc, func(r app.Resources) (app.Runner, error) {
		return usageaggregator.New(cfg, usageaggregator.Deps{NC: r.NC, DB: r.DB, Log: r.Log, Registerer: r.Registry})
	})
}
