// Command httvps-bench measures HTTVPS against direct TCP, one Shadowsocks hop and chisel on
// this machine, plus gateway memory and control-plane rates, and writes docs/benchmarks.md.
// Run it from the repository: make bench (or go run ./services/bench/cmd/httvps-bench -quick).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/httvps/httvps/services/bench/internal/bench"
	"github.com/rs/zerolog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "", "write the Markdown report to this file (e.g. docs/benchmarks.md)")
	quick := flag.Bool("quick", false, "fast smoke run: short windows, few samples, few sessions")
	chisel := flag.String("chisel", "", "chisel binary to use instead of building v1.10.1 from deploy/tools")
	only := flag.String("only", "", "comma-separated parts to run: "+strings.Join(bench.Parts, ", ")+" (default all)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the benchmark process (services, NATS, clients) to this file")
	role := flag.String("role", "", "internal: run as a child process ("+bench.RoleGateway+")")
	flag.Parse()
	if *role == bench.RoleGateway {
		return bench.RunGatewayChild()
	}
	if *role != "" {
		return fmt.Errorf("-role %q: unknown", *role)
	}
	var parts []string
	for _, p := range strings.Split(*only, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(bench.Parts, p) {
			return fmt.Errorf("-only %q: want some of %s", p, strings.Join(bench.Parts, ", "))
		}
		parts = append(parts, p)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	command := "httvps-bench " + strings.Join(os.Args[1:], " ")
	report, err := bench.Run(ctx, bench.Options{
		Quick: *quick, Only: parts, Command: strings.TrimSpace(command), Chisel: *chisel,
		Progress: os.Stderr, Log: zerolog.New(os.Stderr).Level(zerolog.ErrorLevel),
	})
	if err != nil {
		return err
	}
	md := report.Markdown()
	fmt.Print(md)
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(*out); err == nil {
			md = bench.KeepRecorded(string(old), md)
		}
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		fmt.Fprintln(os.Stderr, "wrote", *out)
	}
	return nil
}
