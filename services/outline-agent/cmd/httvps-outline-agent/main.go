// Command httvps-outline-agent runs beside an Outline node and publishes its heartbeat.
package main

import (
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

func main() {
	app.Main("httvps-outline-agent", app.NATSOnly, func(env *config.Env) (outlineagent.Config, string) {
		cfg := outlineagent.LoadConfig(env)
		return cfg, cfg.MetricsAddr
	}, func(cfg outlineagent.Config, r app.Resources) (app.Runner, error) {
		return outlineagent.New(cfg, outlineagent.Deps{NC: r.NC, Log: r.Log, Registerer: r.Registry})
	})
}
