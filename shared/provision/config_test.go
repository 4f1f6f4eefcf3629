package provision_test

import (
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/provision"
)

func TestLoadConfig(t *testing.T) {
	secure := map[string]string{
		config.EnvMode:    config.ModeProduction,
		natsx.EnvURL:      "tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222",
		natsx.EnvNkeyFile: "/run/secrets/nats.nk",
		natsx.EnvCAFile:   "/etc/httvps/tls/ca.pem",
	}
	with := func(changes map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range secure {
			m[k] = v
		}
		for k, v := range changes {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name     string
		env      map[string]string
		replicas int
		wantErr  string
	}{
		{name: "production provisions at 3 replicas", env: secure, replicas: 3},
		{name: "production refuses 1 replica", env: with(map[string]string{natsx.EnvReplicas: "1"}),
			wantErr: natsx.EnvReplicas + ": refused in production"},
		{name: "replicas other than 1 or 3", env: with(map[string]string{natsx.EnvReplicas: "2"}),
			wantErr: natsx.EnvReplicas + `="2": must be one of 1, 3`},
		{name: "production refuses plain NATS", env: with(map[string]string{natsx.EnvURL: "nats://nats-1:4222", natsx.EnvCAFile: ""}),
			wantErr: natsx.EnvURL + ": refused in production"},
		{name: "production refuses NATS without an nkey", env: with(map[string]string{natsx.EnvNkeyFile: ""}),
			wantErr: natsx.EnvNkeyFile + ": refused in production"},
		{name: "production refuses a shared password in the URL", env: with(map[string]string{natsx.EnvURL: "tls://httvps:change-me@nats-1:4222"}),
			wantErr: natsx.EnvURL + ": refused in production"},
		{name: "a timeout that is not a duration", env: with(map[string]string{provision.EnvTimeout: "soon"}),
			wantErr: provision.EnvTimeout + `="soon"`},
		{name: "development on loopback needs no identity", env: map[string]string{config.EnvMode: config.ModeDevelopment}, replicas: 1},
		{name: "development may ask for 3 replicas", env: map[string]string{config.EnvMode: config.ModeDevelopment, natsx.EnvReplicas: "3"}, replicas: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.FromMap(tt.env)
			cfg := provision.LoadConfig(env)
			err := env.Err()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "change-me") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err %q is not one line without the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Streams.Replicas != tt.replicas || cfg.NATSAuth.InboxPrefix != natsauth.ServiceInbox(natsauth.Provisioner) {
				t.Fatalf("replicas %d, inbox %q", cfg.Streams.Replicas, cfg.NATSAuth.InboxPrefix)
			}
		})
	}
}
