package httvps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/natsx"
)

const localDatabase = "httvps"

func openPostgresLog(dataDir string) (*os.File, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	return f, nil
}

// infraError names the variable behind a failed start of NATS, the streams or PostgreSQL.
func infraError(cfg Config, err error) error {
	var ie *system.InfraError
	if !errors.As(err, &ie) {
		return err
	}
	switch {
	case ie.Part == system.PartNATS && cfg.NATSURL != "":
		return fmt.Errorf("%s: %w", EnvNATSURL, err)
	case ie.Part == system.PartNATS && errors.Is(err, natsx.ErrPortTaken):
		port := cfg.NATSListen[strings.LastIndex(cfg.NATSListen, ":")+1:]
		return fmt.Errorf("%s: port %s is taken (stop what listens there or set %s)", EnvNATSListen, port, EnvNATSListen)
	case ie.Part == system.PartNATS:
		return fmt.Errorf("%s: %w", EnvNATSListen, err)
	case ie.Part == system.PartStreams:
		return fmt.Errorf("%s: %w", EnvNATSReplicas, err)
	case cfg.DatabaseURL == "":
		return fmt.Errorf("port %s=%d: %w", EnvLocalPGPort, cfg.LocalPGPort, err)
	}
	return fmt.Errorf("%s: %w", EnvDatabaseURL, err)
}
