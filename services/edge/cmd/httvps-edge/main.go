// Command httvps-edge serves the /api/v1 REST edge of HTTVPS.
package main

import (
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

func main() {
	app.Main("httvps-edge", app.NATSOnly, func(env *config.Env) (edge.Config, string) {
		return edge.LoadConfig(env), "127.0.0.1:9105"
	}, func(cfg edge.Config, r app.Resources) (app.Runner, error) {
		return edge.New(cfg, edge.Deps{NC: r.NC, Log: r.Log, Registerer: r.Registry})
	})
}
