// Command httvps-edge serves the /api/v1 REST edge of HTTVPS.
package main

import (
	"fmt"
	"os"

	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
)

const name = "httvps-edge"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	cfg := edge.LoadConfig(env)
	proc := app.LoadProcess(env, name, app.NATSOnly, "127.0.0.1:9105")
	if err := env.Err(); err != nil {
		return err
	}
	return app.Run(proc, func(r app.Resources) (app.Runner, error) {
		return edge.New(cfg, edge.Deps{NC: r.NC, Log: r.Log, Registerer: r.Registry})
	})
}
