package httvps_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/httvps"
	"github.com/httvps/httvps/shared/testkit"
)

func TestBadConfigGivesOneLineNamingTheCulprit(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dsn := testkit.Postgres(t)
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"replicas must be 1 or 3", map[string]string{"HTTVPS_NATS_REPLICAS": "2"}, []string{`HTTVPS_NATS_REPLICAS="2": must be one of 1, 3`}},
		{"unreachable database", map[string]string{"HTTVPS_DATABASE_URL": "postgres://httvps:secret@127.0.0.1:1/httvps?sslmode=disable"}, []string{"HTTVPS_DATABASE_URL", "127.0.0.1:1"}},
		{"nats port taken", map[string]string{"HTTVPS_NATS_LISTEN": taken.Addr().String(), "HTTVPS_DATABASE_URL": dsn}, []string{"HTTVPS_NATS_LISTEN", "port " + portOf(taken) + " is taken"}},
		{"bad duration", map[string]string{"HTTVPS_USAGE_INTERVAL": "soon"}, []string{`HTTVPS_USAGE_INTERVAL="soon"`}},
		{"secret key too short", map[string]string{"HTTVPS_SECRET_KEY": "short"}, []string{"HTTVPS_SECRET_KEY"}},
		{"edge port taken", map[string]string{"HTTVPS_EDGE_ADDR": taken.Addr().String(), "HTTVPS_DATABASE_URL": dsn}, []string{portOf(taken)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(t, reachableDir(t))
			for k, v := range tt.set {
				env[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sys, err := httvps.Start(ctx, lookup(env), io.Discard)
			if err == nil {
				_ = sys.Stop()
				t.Fatal("started despite bad config")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans several lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, "secret@") {
				t.Fatalf("error leaks the database password: %q", msg)
			}
		})
	}
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
