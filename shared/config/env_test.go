package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/config"
)

func TestEnvValidation(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		read    func(e *config.Env)
		wantErr string
	}{
		{"int in range", map[string]string{"HTTVPS_N": "3"}, func(e *config.Env) { e.Int("HTTVPS_N", 1, 1, 3) }, ""},
		{"int out of range", map[string]string{"HTTVPS_NATS_REPLICAS": "2"}, func(e *config.Env) { e.OneOf("HTTVPS_NATS_REPLICAS", "1", "1", "3") }, `HTTVPS_NATS_REPLICAS="2": must be one of 1, 3`},
		{"int not a number", map[string]string{"HTTVPS_N": "x"}, func(e *config.Env) { e.Int("HTTVPS_N", 1, 1, 3) }, `HTTVPS_N="x": must be a whole number from 1 to 3`},
		{"duration bad", map[string]string{"HTTVPS_D": "10"}, func(e *config.Env) { e.Duration("HTTVPS_D", time.Second, time.Millisecond) }, `HTTVPS_D="10": must be a duration`},
		{"duration too small", map[string]string{"HTTVPS_D": "1ms"}, func(e *config.Env) { e.Duration("HTTVPS_D", time.Second, time.Second) }, `at least 1s`},
		{"bool bad", map[string]string{"HTTVPS_B": "yes please"}, func(e *config.Env) { e.Bool("HTTVPS_B", false) }, `HTTVPS_B="yes please": must be true or false`},
		{"host port bad", map[string]string{"HTTVPS_A": "localhost"}, func(e *config.Env) { e.HostPort("HTTVPS_A", ":1") }, `HTTVPS_A="localhost": must be host:port`},
		{"required missing", nil, func(e *config.Env) { e.Required("HTTVPS_SECRET_KEY") }, `HTTVPS_SECRET_KEY: is required`},
		{"blank counts as unset", map[string]string{"HTTVPS_N": "  "}, func(e *config.Env) { e.Int("HTTVPS_N", 1, 1, 3) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := config.FromMap(tt.env)
			tt.read(e)
			err := e.Err()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestEnvDefaultsAndKnown(t *testing.T) {
	e := config.FromMap(map[string]string{"HTTVPS_LIST": "a, b,,c"})
	if got := e.String("HTTVPS_S", "def"); got != "def" {
		t.Fatalf("String default = %q", got)
	}
	if got := e.List("HTTVPS_LIST", nil); strings.Join(got, "|") != "a|b|c" {
		t.Fatalf("List = %q", got)
	}
	if got := strings.Join(e.Known(), ","); got != "HTTVPS_LIST,HTTVPS_S" {
		t.Fatalf("Known = %q", got)
	}
}
