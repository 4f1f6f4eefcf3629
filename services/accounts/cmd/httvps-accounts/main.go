// Command httvps-accounts runs the accounts service on its own.
package main

import (
	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

func main() {
	app.Main("httvps-accounts", app.NATSAndDB, func(env *config.Env) (accounts.Config, string) {
		cfg := accounts.LoadConfig(env)
		return cfg, cfg.MetricsAddr
	}, func(cfg accounts.Config, r app.Resources) (app.Runner, error) {
		return accounts.New(cfg, accounts.Deps{NC: r.NC, DB: r.DB, Log: r.Log, Registerer: r.Registry})
	})
}
