package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/shared/config"
)

var required = []string{"--gateway", "wss://gw.example:8443/ws", "--device-id", "dev-1", "--token", "tok", "--region", "eu-1"}

func TestParse(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c client.Config)
		usage string
	}{
		{name: "defaults: binary, flow control, stream confirmation", args: required, check: func(t *testing.T, c client.Config) {
			if !c.Binary || !c.FlowControl || !c.Confirm || c.ConnectWait != client.ConnectWaitAuto || c.SOCKS != "127.0.0.1:1080" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "--json is spec-only", args: append(required, "--json"), check: func(t *testing.T, c client.Config) {
			if c.Binary || c.FlowControl || c.Confirm {
				t.Fatalf("binary %v flow %v confirm %v", c.Binary, c.FlowControl, c.Confirm)
			}
		}},
		{name: "spec-only from the environment", args: required, env: map[string]string{client.EnvJSON: "true"}, check: func(t *testing.T, c client.Config) {
			if c.Binary || c.FlowControl || c.Confirm {
				t.Fatalf("binary %v flow %v confirm %v", c.Binary, c.FlowControl, c.Confirm)
			}
		}},
		{name: "confirmation off alone", args: append(required, "--stream-confirm=false"), check: func(t *testing.T, c client.Config) {
			if !c.Binary || !c.FlowControl || c.Confirm {
				t.Fatalf("binary %v flow %v confirm %v", c.Binary, c.FlowControl, c.Confirm)
			}
		}},
		{name: "binary without flow control when asked", args: append(required, "--binary", "--flow-control=false"), check: func(t *testing.T, c client.Config) {
			if !c.Binary || c.FlowControl {
				t.Fatalf("binary %v flow %v", c.Binary, c.FlowControl)
			}
		}},
		{name: "environment only", env: map[string]string{
			client.EnvGateway: "wss://10.0.0.1:443/ws", client.EnvDeviceID: "d", client.EnvToken: "t", client.EnvRegion: "r",
			client.EnvBinary: "true", client.EnvFlowControl: "false", client.EnvConnectWait: "150ms", client.EnvSOCKS: "127.0.0.1:9050",
		}, check: func(t *testing.T, c client.Config) {
			if c.Gateway != "wss://10.0.0.1:443/ws" || !c.Binary || c.FlowControl || c.ConnectWait != 150*time.Millisecond || c.SOCKS != "127.0.0.1:9050" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "flags win over the environment", args: append(required, "--socks", "127.0.0.1:1081"), env: map[string]string{client.EnvSOCKS: "127.0.0.1:9050"},
			check: func(t *testing.T, c client.Config) {
				if c.SOCKS != "127.0.0.1:1081" {
					t.Fatal(c.SOCKS)
				}
			}},
		{name: "token file", args: []string{"--gateway", "wss://gw:1/ws", "--device-id", "d", "--region", "r", "--token-file", tokenFile},
			check: func(t *testing.T, c client.Config) {
				if c.Token != "from-file" {
					t.Fatalf("token %q", c.Token)
				}
			}},
		{name: "connect wait zero", args: append(required, "--connect-wait", "0"), check: func(t *testing.T, c client.Config) {
			if c.ConnectWait != 0 {
				t.Fatal(c.ConnectWait)
			}
		}},
		{name: "missing token", args: []string{"--gateway", "wss://gw:1/ws", "--device-id", "d", "--region", "r"}, usage: "token: required"},
		{name: "missing region", args: []string{"--gateway", "wss://gw:1/ws", "--device-id", "d", "--token", "t"}, usage: "region: required"},
		{name: "http gateway", args: append([]string{"--gateway", "https://gw/ws"}, required[2:]...), usage: "scheme must be wss"},
		{name: "ca and insecure", args: append(required, "--ca", "x.pem", "--insecure"), usage: "not both"},
		{name: "bad connect wait", args: append(required, "--connect-wait", "later"), usage: "--connect-wait"},
		{name: "bad environment value", args: required, env: map[string]string{client.EnvBinary: "sometimes"}, usage: client.EnvBinary},
		{name: "bad log level", args: append(required, "--log-level", "loud"), usage: "--log-level"},
		{name: "bad socks address", args: append(required, "--socks", "1080"), usage: "--socks"},
		{name: "unknown flag", args: append(required, "--turbo"), usage: "turbo"},
		{name: "stray argument", args: append(required, "now"), usage: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(tt.args, config.FromMap(tt.env))
			if tt.usage != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("err = %v, want a usage error mentioning %q", err, tt.usage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		says string
	}{
		{name: "clean stop", err: nil, code: exitOK},
		{name: "usage", err: &usageError{errors.New("token: required")}, code: exitUsage, says: "token: required"},
		{name: "refused device", err: &client.GatewayError{Code: schemas.CodeInvalidToken, Handshake: true}, code: exitRefused,
			says: "httvps-client: the gateway refused this device: its token is not valid (INVALID_TOKEN)"},
		{name: "untrusted certificate", err: &client.CertificateError{Err: errors.New("x509")}, code: exitRefused, says: "--ca FILE"},
		{name: "listener busy", err: errors.New("SOCKS listener on 127.0.0.1:1080: address already in use"), code: exitFailure, says: "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := exitCode(tt.err, &out); got != tt.code {
				t.Fatalf("exit %d, want %d", got, tt.code)
			}
			if !strings.Contains(out.String(), tt.says) {
				t.Fatalf("said %q, want %q", out.String(), tt.says)
			}
		})
	}
}
