package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/testkit"
)

type demoConfig struct{ Greeting string }

func loadDemo(env *config.Env) (demoConfig, string) {
	cfg := demoConfig{Greeting: env.String("HTTVPS_DEMO_GREETING", "hello")}
	if cfg.Greeting == "bad" {
		env.Failf("HTTVPS_DEMO_GREETING", "must not be bad")
	}
	return cfg, env.HostPort("HTTVPS_DEMO_METRICS_ADDR", "127.0.0.1:0")
}

type runnerFunc func(ctx context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

func TestStart(t *testing.T) {
	ns := testkit.NATS(t)
	errBuild := errors.New("build failed")
	tests := []struct {
		name      string
		env       map[string]string
		needs     Needs
		buildErr  error
		wantErr   []string
		wantBuilt bool
	}{
		{name: "config errors name every variable, the service's first", needs: NATSAndDB,
			env:     map[string]string{"HTTVPS_DEMO_GREETING": "bad", EnvLogLevel: "loud"},
			wantErr: []string{`HTTVPS_DEMO_GREETING: must not be bad; HTTVPS_LOG_LEVEL="loud"`, EnvDatabaseURL + ": is required"}},
		{name: "runs what build makes", needs: NATSOnly, wantBuilt: true,
			env: map[string]string{"HTTVPS_DEMO_GREETING": "hi", EnvNATSURL: ns.URL}},
		{name: "build error", needs: NATSOnly, buildErr: errBuild, wantErr: []string{errBuild.Error()}, wantBuilt: true,
			env: map[string]string{"HTTVPS_DEMO_GREETING": "hi", EnvNATSURL: ns.URL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			built, ran := false, false
			err := start(config.FromMap(tt.env), "httvps-demo", tt.needs, loadDemo, func(cfg demoConfig, r Resources) (Runner, error) {
				built = true
				if cfg.Greeting != "hi" || r.NC == nil || r.Registry == nil || r.DB != nil {
					t.Errorf("build got %+v, %+v", cfg, r)
				}
				return runnerFunc(func(context.Context) error { ran = true; return nil }), tt.buildErr
			})
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want it to contain %q", err, want)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			if built != tt.wantBuilt || ran != (tt.wantBuilt && tt.buildErr == nil) {
				t.Fatalf("built = %v, ran = %v", built, ran)
			}
		})
	}
}
