// Command httvps-node-registry runs the node-registry service on its own.
package main

import (
	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

func main() {
	app.Main("httvps-node-registry", app.NATSAndDB, func(env *config.Env) (noderegistry.Config, string) {
		cfg := noderegistry.LoadConfig(env)
		return cfg, cfg.MetricsAddr
	}, func(cfg noderegistry.Config, r app.Resources) (app.Runner, error) {
		return noderegistry.New(cfg, noderegistry.Deps{NC: r.NC, DB: r.DB, Log: r.Log, Registerer: r.Registry})
	})
}
