package app

import (
	"fmt"
	"os"

	"github.com/httvps/httvps/shared/config"
)

// Main runs a service binary: load returns the service's config and default metrics address,
// then the process variables are read and Run starts what build makes; errors exit 1.
func Main[C any](name string, needs Needs, load func(*config.Env) (C, string), build func(C, Resources) (Runner, error)) {
	if err := start(config.FromOS(), name, needs, load, build); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func start[C any](env *config.Env, name string, needs Needs, load func(*config.Env) (C, string), build func(C, Resources) (Runner, error)) error {
	cfg, metricsAddr := load(env)
	proc := LoadProcess(env, name, needs, metricsAddr)
	if err := env.Err(); err != nil {
		return err
	}
	return Run(proc, func(r Resources) (Runner, error) { return build(cfg, r) })
}
