package httvps

import (
	"github.com/httvps/httvps/shared/config"
	"github.com/rs/zerolog"
)

type serviceConfigs struct{}

func loadServiceConfigs(env *config.Env) serviceConfigs {
	return serviceConfigs{}
}

func buildServices(cfg serviceConfigs, in *infra, log zerolog.Logger) ([]component, error) {
	return nil, nil
}
