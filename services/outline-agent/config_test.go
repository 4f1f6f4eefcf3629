package outlineagent_test

import (
	"strings"
	"testing"

	outlineagent "github.com/httvps/httvps/services/outline-agent"
	"github.com/httvps/httvps/shared/config"
)

func TestConfigNamesTheBadVariable(t *testing.T) {
	good := map[string]string{
		outlineagent.EnvNodeID: "7", outlineagent.EnvNodeAddr: "10.0.1.7:8388", outlineagent.EnvNodePassword: "node-key",
		outlineagent.EnvProbeTarget: "example.com:80",
	}
	tests := []struct {
		name   string
		set    map[string]string
		unset  string
		naming string
	}{
		{"valid", nil, "", ""},
		{"no node id", nil, outlineagent.EnvNodeID, outlineagent.EnvNodeID},
		{"node id zero", map[string]string{outlineagent.EnvNodeID: "0"}, "", outlineagent.EnvNodeID},
		{"no node address", nil, outlineagent.EnvNodeAddr, outlineagent.EnvNodeAddr},
		{"node address without port", map[string]string{outlineagent.EnvNodeAddr: "10.0.1.7"}, "", outlineagent.EnvNodeAddr},
		{"no password", nil, outlineagent.EnvNodePassword, outlineagent.EnvNodePassword},
		{"stream cipher", map[string]string{outlineagent.EnvNodeMethod: "rc4-md5"}, "", outlineagent.EnvNodeMethod},
		{"no probe target", nil, outlineagent.EnvProbeTarget, outlineagent.EnvProbeTarget},
		{"unknown probe kind", map[string]string{outlineagent.EnvProbeKind: "icmp"}, "", outlineagent.EnvProbeKind},
		{"probe timeout not below the interval", map[string]string{outlineagent.EnvProbeTimeout: "10s", outlineagent.EnvInterval: "10s"}, "", outlineagent.EnvProbeTimeout},
		{"no failures", map[string]string{outlineagent.EnvFailures: "0"}, "", outlineagent.EnvFailures},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range good {
				vars[k] = v
			}
			for k, v := range tt.set {
				vars[k] = v
			}
			delete(vars, tt.unset)
			env := config.FromMap(vars)
			cfg := outlineagent.LoadConfig(env)
			err := env.Err()
			if err == nil {
				err = cfg.Validate()
			}
			if tt.naming == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.naming) {
				t.Fatalf("err = %v, want one naming %s", err, tt.naming)
			}
		})
	}
}
