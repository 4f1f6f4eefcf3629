package edge

import (
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"

	"github.com/httvps/httvps/shared/config"
)

const (
	EnvAddr            = "HTTVPS_EDGE_ADDR"
	EnvAdminToken      = "HTTVPS_ADMIN_TOKEN"
	EnvNodeToken       = "HTTVPS_NODE_TOKEN"
	EnvAdminReadToken  = "HTTVPS_ADMIN_READ_TOKEN"
	EnvRequestTimeout  = "HTTVPS_EDGE_REQUEST_TIMEOUT"
	EnvHealthTimeout   = "HTTVPS_EDGE_HEALTH_TIMEOUT"
	EnvReadTimeout     = "HTTVPS_EDGE_READ_TIMEOUT"
	EnvIdleTimeout     = "HTTVPS_EDGE_IDLE_TIMEOUT"
	EnvShutdownTimeout = "HTTVPS_EDGE_SHUTDOWN_TIMEOUT"
	EnvBodyLimit       = "HTTVPS_EDGE_BODY_LIMIT"
	EnvHealthServices  = "HTTVPS_EDGE_HEALTH_SERVICES"
	EnvTLSCert         = "HTTVPS_EDGE_TLS_CERT"
	EnvTLSKey          = "HTTVPS_EDGE_TLS_KEY"
	EnvTLSTerminator   = "HTTVPS_EDGE_TLS_TERMINATOR"

	MinTokenLength = 16
)

type Config struct {
	Addr       string
	AdminToken string
	NodeToken  string
	// AdminReadToken, when set, runs the admin commands that only read (list, get).
	AdminReadToken  string
	RequestTimeout  time.Duration
	HealthTimeout   time.Duration
	ReadTimeout     time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	BodyLimit       int
	Services        []string
	TLSCert         string
	TLSKey          string
	// TLSTerminator names what terminates TLS in front of a plain-HTTP edge (docs/02).
	TLSTerminator string
}

func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		RequestTimeout:  3 * time.Second,
		HealthTimeout:   500 * time.Millisecond,
		ReadTimeout:     10 * time.Second,
		IdleTimeout:     60 * time.Second,
		ShutdownTimeout: 10 * time.Second,
		BodyLimit:       64 << 10,
		Services:        []string{schemas.ServiceAccounts, schemas.ServiceNodeRegistry, schemas.ServiceUsageAggregator},
	}
}

func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	cfg := Config{
		Addr:            env.HostPort(EnvAddr, d.Addr),
		AdminToken:      env.Secret(EnvAdminToken),
		NodeToken:       env.Secret(EnvNodeToken),
		AdminReadToken:  env.OptionalSecret(EnvAdminReadToken),
		RequestTimeout:  env.Duration(EnvRequestTimeout, d.RequestTimeout, 10*time.Millisecond),
		HealthTimeout:   env.Duration(EnvHealthTimeout, d.HealthTimeout, 10*time.Millisecond),
		ReadTimeout:     env.Duration(EnvReadTimeout, d.ReadTimeout, 100*time.Millisecond),
		IdleTimeout:     env.Duration(EnvIdleTimeout, d.IdleTimeout, 100*time.Millisecond),
		ShutdownTimeout: env.Duration(EnvShutdownTimeout, d.ShutdownTimeout, 0),
		BodyLimit:       env.Int(EnvBodyLimit, d.BodyLimit, 1<<10, 16<<20),
		Services:        env.List(EnvHealthServices, d.Services),
		TLSCert:         env.String(EnvTLSCert, ""),
		TLSKey:          env.String(EnvTLSKey, ""),
		TLSTerminator:   env.String(EnvTLSTerminator, ""),
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		env.Failf(EnvTLSCert, "give both %s and %s, or neither", EnvTLSCert, EnvTLSKey)
	}
	if env.Production() && cfg.TLSCert == "" && cfg.TLSTerminator == "" {
		env.Refuse(EnvTLSCert, "the edge would serve plain HTTP; give %s and %s, or name the TLS terminator in front of it in %s", EnvTLSCert, EnvTLSKey, EnvTLSTerminator)
	}
	if cfg.AdminToken != "" && len(cfg.AdminToken) < MinTokenLength {
		env.Failf(EnvAdminToken, "must be at least %d characters", MinTokenLength)
	}
	if cfg.NodeToken != "" && len(cfg.NodeToken) < MinTokenLength {
		env.Failf(EnvNodeToken, "must be at least %d characters", MinTokenLength)
	}
	if cfg.AdminToken != "" && cfg.AdminToken == cfg.NodeToken {
		env.Failf(EnvNodeToken, "must differ from %s", EnvAdminToken)
	}
	if cfg.AdminReadToken != "" {
		if len(cfg.AdminReadToken) < MinTokenLength {
			env.Failf(EnvAdminReadToken, "must be at least %d characters", MinTokenLength)
		}
		if cfg.AdminReadToken == cfg.AdminToken || cfg.AdminReadToken == cfg.NodeToken {
			env.Failf(EnvAdminReadToken, "must differ from %s and %s", EnvAdminToken, EnvNodeToken)
		}
	}
	return cfg
}

func (c Config) validate() error {
	switch {
	case len(c.AdminToken) < MinTokenLength:
		return fmt.Errorf("%s: must be at least %d characters", EnvAdminToken, MinTokenLength)
	case len(c.NodeToken) < MinTokenLength:
		return fmt.Errorf("%s: must be at least %d characters", EnvNodeToken, MinTokenLength)
	case c.AdminToken == c.NodeToken:
		return fmt.Errorf("%s: must differ from %s", EnvNodeToken, EnvAdminToken)
	case c.AdminReadToken != "" && (len(c.AdminReadToken) < MinTokenLength || c.AdminReadToken == c.AdminToken || c.AdminReadToken == c.NodeToken):
		return fmt.Errorf("%s: must be at least %d characters and differ from the other tokens", EnvAdminReadToken, MinTokenLength)
	case c.RequestTimeout <= 0 || c.HealthTimeout <= 0:
		return fmt.Errorf("%s and %s must be positive", EnvRequestTimeout, EnvHealthTimeout)
	case c.BodyLimit <= 0:
		return fmt.Errorf("%s: must be positive", EnvBodyLimit)
	case len(c.Services) == 0:
		return fmt.Errorf("%s: names no service", EnvHealthServices)
	}
	return nil
}
