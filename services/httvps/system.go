package httvps

import (
	"context"
	"fmt"
	"io"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/logging"
)

func Main(ctx context.Context, lookup func(string) (string, bool), out, errOut io.Writer) error {
	dataDir := config.New(lookup).String(EnvDataDir, ".data")
	secrets, err := loadDevSecrets(dataDir)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	env := config.New(layered(lookup, devDefaults(secrets)))
	cfg := LoadConfig(env)
	services := loadServiceConfigs(env)
	if err := env.Err(); err != nil {
		return err
	}
	log, err := logging.New(cfg.LogLevel, errOut)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	in, err := startInfra(ctx, cfg, log, errOut)
	if err != nil {
		return err
	}
	defer in.close(context.Background(), log)
	g := newGroup(log)
	comps, err := buildServices(services, in, log)
	if err != nil {
		return err
	}
	for _, c := range comps {
		g.start(ctx, c)
	}
	printBanner(out, cfg, in, services, secrets)
	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case runErr = <-g.failed:
		log.Error().Err(runErr).Msg("a component failed, shutting down")
	}
	if err := g.stopAll(cfg.ShutdownTimeout); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func devDefaults(secrets map[string]string) map[string]string {
	d := map[string]string{}
	for k, v := range secrets {
		d[k] = v
	}
	return d
}
