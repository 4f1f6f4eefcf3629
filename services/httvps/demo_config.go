package httvps

import (
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/outlinenode"
)

const (
	EnvDemo                = "HTTVPS_DEMO"
	EnvDemoRegion          = "HTTVPS_DEMO_REGION"
	EnvDemoOutlineAddr     = "HTTVPS_DEMO_OUTLINE_ADDR"
	EnvDemoOutlinePassword = "HTTVPS_DEMO_OUTLINE_PASSWORD"
	EnvDemoPageAddr        = "HTTVPS_DEMO_PAGE_ADDR"
	EnvDemoSOCKSAddr       = "HTTVPS_DEMO_SOCKS_ADDR"
)

type DemoConfig struct {
	Enabled         bool
	Region          string
	OutlineAddr     string
	OutlineMethod   string
	OutlinePassword string
	PageAddr        string
	SOCKSAddr       string
	User            string
	Plan            string
	DeviceID        string
}

func LoadDemoConfig(env *config.Env) DemoConfig {
	return DemoConfig{
		Enabled:         env.Bool(EnvDemo, true),
		Region:          env.String(EnvDemoRegion, "local-1"),
		OutlineAddr:     env.HostPort(EnvDemoOutlineAddr, "127.0.0.1:18388"),
		OutlineMethod:   outlinenode.DefaultMethod,
		OutlinePassword: env.String(EnvDemoOutlinePassword, ""),
		PageAddr:        env.HostPort(EnvDemoPageAddr, "127.0.0.1:18080"),
		SOCKSAddr:       env.HostPort(EnvDemoSOCKSAddr, "127.0.0.1:1080"),
		User:            "demo@httvps.local",
		Plan:            "demo",
		DeviceID:        "demo-device",
	}
}
