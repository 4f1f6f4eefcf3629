package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// binary is the command built once for every test, run as its own process.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "httvps-provision-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	binary = filepath.Join(dir, "httvps-provision")
	if out, err := exec.Command(goBin, "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build httvps-provision: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

type result struct {
	stdout, stderr string
	code           int
}

func provisionCmd(tb testing.TB, env map[string]string, args ...string) result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		tb.Fatalf("run httvps-provision: %v", err)
	}
	return r
}

// wantFailure: exit 1, nothing on stdout and one line on stderr that contains want.
func (r result) wantFailure(tb testing.TB, want string) {
	tb.Helper()
	line := strings.TrimSuffix(r.stderr, "\n")
	if r.code != 1 || r.stdout != "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "httvps-provision: ") || !strings.Contains(line, want) {
		tb.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", r.code, r.stdout, r.stderr, want)
	}
}

// wantSteps: exit 0 and one line per stream and durable consumer, in order, each with its action.
func (r result) wantSteps(tb testing.TB, replicas int, action func(kind, stream, name string) string) {
	tb.Helper()
	if r.code != 0 || r.stderr != "" {
		tb.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var want []string
	cfg := natsx.DefaultStreams()
	for _, sc := range cfg.Streams() {
		want = append(want, fmt.Sprintf("stream %s: %s, replicas %d", sc.Name, action(natsx.KindStream, sc.Name, sc.Name), replicas))
	}
	for _, cs := range cfg.Consumers() {
		want = append(want, fmt.Sprintf("consumer %s/%s: %s, replicas %d", cs.Stream, cs.Config.Durable,
			action(natsx.KindConsumer, cs.Stream, cs.Config.Durable), replicas))
	}
	if got := strings.TrimSuffix(r.stdout, "\n"); got != strings.Join(want, "\n") {
		tb.Fatalf("stdout:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func every(action string) func(kind, stream, name string) string {
	return func(string, string, string) string { return action }
}

func TestDevelopmentOnLoopback(t *testing.T) {
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Host: "127.0.0.1", Port: testkit.FreePort(t), StoreDir: t.TempDir()}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	env := map[string]string{config.EnvMode: config.ModeDevelopment, natsx.EnvURL: srv.ClientURL()}
	provisionCmd(t, env, "up").wantSteps(t, 1, every(natsx.ActionCreated))
	provisionCmd(t, env, "up").wantSteps(t, 1, every(natsx.ActionUnchanged))

	t.Run("a durable the server will not update is named and kept", func(t *testing.T) {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		durable := schemas.ConsumerHeartbeatsRegistry
		if err := js.DeleteConsumer(ctx, schemas.StreamHeartbeats, durable); err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateConsumer(ctx, schemas.StreamHeartbeats, jetstream.ConsumerConfig{
			Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
		}); err != nil {
			t.Fatal(err)
		}
		provisionCmd(t, env, "up").wantFailure(t, "provision: consumer "+durable+" on "+schemas.StreamHeartbeats+": ")
		c, err := js.Consumer(ctx, schemas.StreamHeartbeats, durable)
		if err != nil || c.CachedInfo().Config.DeliverPolicy != jetstream.DeliverNewPolicy {
			t.Fatalf("the refused durable was not kept: %v", err)
		}
	})
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"an unknown command", []string{"down"}},
		{"two commands", []string{"up", "up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			provisionCmd(t, nil, tt.args...).wantFailure(t, errUsage.Error())
		})
	}
	if r := provisionCmd(t, nil, "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: httvps-provision up") {
		t.Fatalf("help: exit %d, %q", r.code, r.stdout)
	}
}
