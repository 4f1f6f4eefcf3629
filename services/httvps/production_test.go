package httvps_test

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/httvps/httvps/services/httvps"
	"github.com/httvps/httvps/shared/config"
)

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// productionEnv is a setting every binary accepts in production; each row breaks one variable.
func productionEnv(tb testing.TB) map[string]string {
	return map[string]string{
		"HTTVPS_NATS_URL":       "tls://nats-1:4222,tls://nats-2:4222",
		"HTTVPS_NATS_NKEY_FILE": "/etc/httvps/nats.nk",
		"HTTVPS_NATS_CA_FILE":   "/etc/httvps/tls/ca.pem",
		"HTTVPS_DATABASE_URL":   "postgres://httvps:" + randomHex(tb, 32) + "@postgres:5432/httvps",
		"HTTVPS_SECRET_KEY":     randomHex(tb, 32),
		"HTTVPS_ADMIN_TOKEN":    randomHex(tb, 32),
		"HTTVPS_NODE_TOKEN":     randomHex(tb, 32),
		"HTTVPS_EDGE_TLS_CERT":  "/etc/httvps/tls/edge.pem",
		"HTTVPS_EDGE_TLS_KEY":   "/etc/httvps/tls/edge-key.pem",
		"HTTVPS_GATEWAY_ID":     "gw-eu-1",
	}
}

const (
	accountsCmd = "services/accounts/cmd/httvps-accounts"
	edgeCmd     = "services/edge/cmd/httvps-edge"
	gatewayCmd  = "services/gateway/cmd/httvps-gateway"
	agentCmd    = "services/outline-agent/cmd/httvps-outline-agent"
	allInOne    = "services/httvps/cmd/httvps"
	refused     = "refused in production (HTTVPS_ENV=production): "
)

func TestProductionRefusesDevelopmentSettings(t *testing.T) {
	weak := "node-token-0123456789-abcdefghij"
	tests := []struct {
		name   string
		binary string
		set    map[string]string
		unset  []string
		want   string
	}{
		{name: "secret key shipped in env.example", binary: accountsCmd,
			set:  map[string]string{"HTTVPS_SECRET_KEY": "at-least-32-random-bytes-change-me-now"},
			want: "HTTVPS_SECRET_KEY: " + refused + "is a placeholder shipped in the repository; generate one with `openssl rand -hex 32`"},
		{name: "secret key of 16 random bytes", binary: accountsCmd,
			set:  map[string]string{"HTTVPS_SECRET_KEY": randomHex(t, 16) + "-" + randomHex(t, 1)},
			want: "HTTVPS_SECRET_KEY: " + refused + "carries less than 32 random bytes; generate one with `openssl rand -hex 32`"},
		{name: "admin token shipped in env.example", binary: edgeCmd,
			set:  map[string]string{"HTTVPS_ADMIN_TOKEN": "change-me-admin-token"},
			want: "HTTVPS_ADMIN_TOKEN: " + refused + "is a placeholder shipped in the repository; generate one with `openssl rand -hex 32`"},
		{name: "read-only admin token without 32 random bytes", binary: edgeCmd,
			set:  map[string]string{"HTTVPS_ADMIN_READ_TOKEN": "admin-read-token-0123456789abcdef"},
			want: "HTTVPS_ADMIN_READ_TOKEN: " + refused + "carries less than 32 random bytes; generate one with `openssl rand -hex 32`"},
		{name: "node token without 32 random bytes", binary: edgeCmd,
			set:  map[string]string{"HTTVPS_NODE_TOKEN": weak},
			want: "HTTVPS_NODE_TOKEN: " + refused + "carries less than 32 random bytes; generate one with `openssl rand -hex 32`"},
		{name: "database password shipped in env.example", binary: accountsCmd,
			set:  map[string]string{"HTTVPS_DATABASE_URL": "postgres://httvps:change-me@postgres:5432/httvps"},
			want: "HTTVPS_DATABASE_URL: " + refused + "password is a placeholder shipped in the repository; generate one with `openssl rand -hex 32`"},
		{name: "nats in plain text", binary: edgeCmd, unset: []string{"HTTVPS_NATS_CA_FILE"},
			set:  map[string]string{"HTTVPS_NATS_URL": "nats://nats-1:4222"},
			want: "HTTVPS_NATS_URL: " + refused + "nats://nats-1:4222 is plain text; use tls:// URLs or set HTTVPS_NATS_CA_FILE"},
		{name: "nats without credentials", binary: edgeCmd, unset: []string{"HTTVPS_NATS_NKEY_FILE"},
			want: "HTTVPS_NATS_NKEY_FILE: " + refused + "is required: NATS without credentials"},
		{name: "nats password in the url", binary: accountsCmd,
			set:  map[string]string{"HTTVPS_NATS_URL": "tls://control:" + weak + "@nats-1:4222"},
			want: "HTTVPS_NATS_URL: " + refused + "carries a user or password; give the identity's nkey seed in HTTVPS_NATS_NKEY_FILE"},
		{name: "gateway nats in plain text", binary: gatewayCmd, unset: []string{"HTTVPS_NATS_CA_FILE"},
			set:  map[string]string{"HTTVPS_NATS_URL": "nats://nats-1:4222"},
			want: "HTTVPS_NATS_URL: " + refused + "nats://nats-1:4222 is plain text; use tls:// URLs or set HTTVPS_NATS_CA_FILE"},
		{name: "gateway allow-list admits a private range", binary: gatewayCmd,
			set:  map[string]string{"HTTVPS_GATEWAY_ALLOW_TARGETS": "203.0.113.0/24,10.1.0.0/16"},
			want: "HTTVPS_GATEWAY_ALLOW_TARGETS: " + refused + "10.1.0.0/16 admits the loopback or private range 10.0.0.0/8"},
		{name: "gateway allow-list admits loopback", binary: gatewayCmd,
			set:  map[string]string{"HTTVPS_GATEWAY_ALLOW_TARGETS": "::1"},
			want: "HTTVPS_GATEWAY_ALLOW_TARGETS: " + refused + "::1/128 admits the loopback or private range ::1/128"},
		{name: "outline agent with the node password shipped in env.example", binary: agentCmd,
			set: map[string]string{"HTTVPS_AGENT_NODE_ID": "1", "HTTVPS_AGENT_NODE_ADDR": "outline:8388", "HTTVPS_AGENT_PROBE_TARGET": "example.com:80",
				"HTTVPS_AGENT_NODE_PASSWORD": "change-me"},
			want: "HTTVPS_AGENT_NODE_PASSWORD: " + refused + "is a placeholder shipped in the repository; generate one with `openssl rand -hex 32`"},
		{name: "edge in plain http", binary: edgeCmd, unset: []string{"HTTVPS_EDGE_TLS_CERT", "HTTVPS_EDGE_TLS_KEY"},
			want: "HTTVPS_EDGE_TLS_CERT: " + refused + "the edge would serve plain HTTP; give HTTVPS_EDGE_TLS_CERT and HTTVPS_EDGE_TLS_KEY, or name the TLS terminator in front of it in HTTVPS_EDGE_TLS_TERMINATOR"},
		{name: "all-in-one with its embedded nats", binary: allInOne, unset: []string{"HTTVPS_NATS_URL"},
			set:  map[string]string{"HTTVPS_ENV": "production"},
			want: "HTTVPS_NATS_URL: " + refused + "is empty, so the all-in-one would run an embedded NATS server; run the services on their own against a NATS cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := productionEnv(t)
			for k, v := range tt.set {
				vars[k] = v
			}
			for _, k := range tt.unset {
				delete(vars, k)
			}
			err := loadBinary(tt.binary, vars)
			if err == nil || err.Error() != "config: "+tt.want {
				t.Fatalf("err = %v\nwant config: %s", err, tt.want)
			}
			for k, v := range tt.set {
				if strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET") || strings.Contains(k, "DATABASE") || strings.Contains(k, "PASSWORD") {
					if strings.Contains(err.Error(), v) {
						t.Fatalf("the error shows the secret of %s", k)
					}
				}
			}
			if strings.Contains(err.Error(), weak) {
				t.Fatal("the error shows a password")
			}
		})
	}
}

func TestProductionIsTheDefaultAndDevelopmentAcceptsItsSettings(t *testing.T) {
	dev := map[string]string{"HTTVPS_NATS_URL": "nats://127.0.0.1:4222", "HTTVPS_DATABASE_URL": "postgres://httvps:change-me@127.0.0.1/httvps",
		"HTTVPS_SECRET_KEY": "at-least-32-random-bytes-change-me-now", "HTTVPS_ADMIN_TOKEN": "change-me-admin-token",
		"HTTVPS_NODE_TOKEN": "change-me-node-token", "HTTVPS_GATEWAY_ALLOW_TARGETS": "127.0.0.0/8"}
	for _, binary := range []string{accountsCmd, edgeCmd, gatewayCmd} {
		t.Run(binary, func(t *testing.T) {
			if err := loadBinary(binary, dev); err == nil || !strings.Contains(err.Error(), refused) {
				t.Fatalf("without HTTVPS_ENV: err = %v, want production refusals", err)
			}
			withDev := map[string]string{"HTTVPS_ENV": "development"}
			for k, v := range dev {
				withDev[k] = v
			}
			if err := loadBinary(binary, withDev); err != nil {
				t.Fatalf("development: %v", err)
			}
		})
	}
}

func loadBinary(binary string, vars map[string]string) error {
	env := config.New(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if binary == allInOne {
		httvps.LoadConfig(env)
	} else {
		binaryConfigs[binary](env)
	}
	return env.Err()
}
