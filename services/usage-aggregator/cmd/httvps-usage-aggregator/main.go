// Command httvps-usage-aggregator runs the usage-aggregator service on its own.
package main

import (
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

func main() {
	app.Main("httvps-usage-aggregator", app.NATSAndDB, func(env *config.Env) (usageaggregator.Config, string) {
		cfg := usageaggregator.LoadConfig(env)
		return cfg, cfg.MetricsAddr
	}, func(cfg usageaggregator.Config, r app.Resources) (app.Runner, error) {
		return usageaggregator.New(cfg, usageaggregator.Deps{NC: r.NC, DB: r.DB, Log: r.Log, Registerer: r.Registry})
	})
}
