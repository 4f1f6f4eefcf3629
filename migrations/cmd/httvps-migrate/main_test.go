package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/testkit"
)

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(m))
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCLI(tb testing.TB, dsn string, args ...string) (string, error) {
	tb.Helper()
	var out bytes.Buffer
	err := runCommand(tb.Context(), args, env(map[string]string{envDatabaseURL: dsn}), &out)
	return out.String(), err
}

func TestCommands(t *testing.T) {
	dsn := testkit.Postgres(t)
	tests := []struct {
		args    []string
		applied int
		pending int
	}{
		{[]string{"status"}, 0, 1},
		{[]string{"up"}, 1, 0},
		{[]string{"up"}, 1, 0},
		{[]string{"status"}, 1, 0},
		{[]string{"down"}, 0, 1},
		{[]string{"up"}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := runCLI(t, dsn, tt.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(lines[0], "STATE") || len(lines) < 2 {
				t.Fatalf("unexpected output:\n%s", out)
			}
			applied, pending := strings.Count(out, "\napplied "), strings.Count(out, "\npending ")
			if (applied > 0) != (tt.applied > 0) || (pending > 0) != (tt.pending > 0) || applied+pending != len(lines)-1 {
				t.Fatalf("applied %d, pending %d:\n%s", applied, pending, out)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		dsn  string
		want string
	}{
		{"no command", nil, "postgres://x@127.0.0.1/x", errUsage.Error()},
		{"two commands", []string{"up", "down"}, "postgres://x@127.0.0.1/x", errUsage.Error()},
		{"unknown command", []string{"redo"}, "postgres://x@127.0.0.1/x", `unknown command "redo"`},
		{"no database url", []string{"up"}, "", envDatabaseURL + " is not set"},
		{"unreachable", []string{"status"}, "postgres://app:secret@127.0.0.1:1/app?sslmode=disable", "database: connect to 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCLI(t, tt.dsn, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %v leaks the password", err)
			}
		})
	}
	if _, err := runCLI(t, "", "redo"); !errors.Is(err, errUsage) {
		t.Fatalf("unknown command error %v does not wrap errUsage", err)
	}
}

func TestHelp(t *testing.T) {
	out, err := runCLI(t, "", "help")
	if err != nil || !strings.Contains(out, "usage: httvps-migrate") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}
