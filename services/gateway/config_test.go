package gateway_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/shared/config"
)

func TestLoadConfigDefaults(t *testing.T) {
	env := config.FromMap(map[string]string{gateway.EnvGatewayID: "gw-a"})
	cfg := gateway.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	want := gateway.DefaultConfig()
	want.GatewayID = "gw-a"
	want.AllowTargets = []netip.Prefix{}
	if cfg.Listen != want.Listen || cfg.HelloTimeout != want.HelloTimeout || cfg.MaxStreams != want.MaxStreams ||
		cfg.UsageInterval != 10*time.Second || cfg.GatewayID != "gw-a" || len(cfg.AllowTargets) != 0 {
		t.Fatalf("config = %+v", cfg)
	}
	if len(cfg.DenyPorts) != 1 || cfg.DenyPorts[0] != 25 || len(cfg.AllowPorts) != 0 || cfg.NodeAttempts != 3 || cfg.ReplayLimit != 16<<10 {
		t.Fatalf("target and node defaults = deny %v allow %v attempts %d replay %d", cfg.DenyPorts, cfg.AllowPorts, cfg.NodeAttempts, cfg.ReplayLimit)
	}
	cleared := config.FromMap(map[string]string{gateway.EnvGatewayID: "gw-a", gateway.EnvDenyPorts: "none"})
	if cfg := gateway.LoadConfig(cleared); cleared.Err() != nil || len(cfg.DenyPorts) != 0 {
		t.Fatalf("%s=none must clear the default: %v %v", gateway.EnvDenyPorts, cfg.DenyPorts, cleared.Err())
	}
}

func TestLoadConfigFileAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml := "gateway_id: gw-file\nlisten: 127.0.0.1:9443\nhello_timeout: 3s\nmax_streams: 12\nallow_targets:\n  - 127.0.0.0/8\n  - 10.0.0.5\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := config.FromMap(map[string]string{gateway.EnvConfigFile: path, gateway.EnvMaxStreams: "20"})
	cfg := gateway.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.5/32")}
	if cfg.GatewayID != "gw-file" || cfg.Listen != "127.0.0.1:9443" || cfg.HelloTimeout != 3*time.Second ||
		cfg.MaxStreams != 20 || len(cfg.AllowTargets) != 2 || cfg.AllowTargets[0] != allow[0] || cfg.AllowTargets[1] != allow[1] {
		t.Fatalf("config = %+v", cfg)
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	file := func(content string) string {
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{gateway.EnvHelloTimeout: "soon"}, gateway.EnvHelloTimeout},
		{"streams out of range", map[string]string{gateway.EnvMaxStreams: "0"}, gateway.EnvMaxStreams},
		{"bad listen", map[string]string{gateway.EnvListen: "nowhere"}, gateway.EnvListen},
		{"bad cidr", map[string]string{gateway.EnvAllowTargets: "10.0.0.0/33"}, gateway.EnvAllowTargets},
		{"cert without key", map[string]string{gateway.EnvTLSCert: "/tmp/c.pem"}, gateway.EnvTLSCert},
		{"idle shorter than two pings", map[string]string{gateway.EnvPingInterval: "30s", gateway.EnvIdleTimeout: "40s"}, gateway.EnvIdleTimeout},
		{"window below frame size", map[string]string{gateway.EnvMaxFrameSize: "65536", gateway.EnvStreamWindow: "32768"}, gateway.EnvStreamWindow},
		{"bad log level", map[string]string{gateway.EnvLogLevel: "loud"}, gateway.EnvLogLevel},
		{"port that is not a number", map[string]string{gateway.EnvDenyPorts: "25,smtp"}, gateway.EnvDenyPorts},
		{"port zero", map[string]string{gateway.EnvAllowPorts: "0"}, gateway.EnvAllowPorts},
		{"port out of range", map[string]string{gateway.EnvAllowPorts: "443,70000"}, gateway.EnvAllowPorts},
		{"no DNS lookups", map[string]string{gateway.EnvDNSConcurrency: "0"}, gateway.EnvDNSConcurrency},
		{"bad DNS timeout", map[string]string{gateway.EnvDNSTimeout: "0s"}, gateway.EnvDNSTimeout},
		{"no node attempts", map[string]string{gateway.EnvNodeAttempts: "0"}, gateway.EnvNodeAttempts},
		{"negative replay limit", map[string]string{gateway.EnvReplayLimit: "-1"}, gateway.EnvReplayLimit},
		{"re-validation too often", map[string]string{gateway.EnvRevalidate: "1ms"}, gateway.EnvRevalidate},
		{"missing file", map[string]string{gateway.EnvConfigFile: "/nonexistent/gateway.yaml"}, gateway.EnvConfigFile},
		{"unknown file key", map[string]string{gateway.EnvConfigFile: file("colour: blue\n")}, `unknown key "colour"`},
		{"bad value in file", map[string]string{gateway.EnvConfigFile: file("max_streams: many\n")}, gateway.EnvMaxStreams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.FromMap(tt.env)
			gateway.LoadConfig(env)
			err := env.Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s", err, tt.want)
			}
		})
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxFrameSize = 10
	if _, err := gateway.New(cfg, gateway.Deps{}); err == nil || !strings.Contains(err.Error(), gateway.EnvMaxFrameSize) {
		t.Fatalf("err = %v", err)
	}
}
