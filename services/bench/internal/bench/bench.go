// Package bench measures HTTVPS on one machine, side by side with direct TCP, one Shadowsocks
// hop and chisel, plus the gateway's memory per idle session and the control plane's rates.
// cmd/httvps-bench runs it and writes docs/benchmarks.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/client/internal/stack"
	"github.com/rs/zerolog"
)

type Options struct {
	Quick bool
	// Only names the parts to run (paths, idle, validate, usage); empty runs all.
	Only     []string
	Command  string
	Chisel   string
	Progress io.Writer
	Log      zerolog.Logger
}

// Settings bound every measurement in count and time.
type Settings struct {
	Warmup         time.Duration
	Window         time.Duration
	StreamCounts   []int
	TTFBSamples    int
	TTFBBudget     time.Duration
	IdleCounts     []int
	ValidateCount  int
	ValidateBudget time.Duration
	UsageReports   int
	UsageSessions  int
	UsageUsers     int
	UsageBudget    time.Duration
}

func settingsFor(quick bool) Settings {
	if quick {
		return Settings{
			Warmup: 300 * time.Millisecond, Window: time.Second, StreamCounts: []int{1, 10, 100},
			TTFBSamples: 40, TTFBBudget: 5 * time.Second, IdleCounts: []int{100, 500},
			ValidateCount: 3000, ValidateBudget: 5 * time.Second,
			UsageReports: 10000, UsageSessions: 500, UsageUsers: 10, UsageBudget: time.Minute,
		}
	}
	return Settings{
		Warmup: time.Second, Window: 4 * time.Second, StreamCounts: []int{1, 10, 100},
		TTFBSamples: 300, TTFBBudget: 20 * time.Second, IdleCounts: []int{1000, 5000},
		ValidateCount: 30000, ValidateBudget: 15 * time.Second,
		UsageReports: 100000, UsageSessions: 2000, UsageUsers: 50, UsageBudget: 3 * time.Minute,
	}
}

// PathResult is what one path measured; Err is set when it could not be measured.
type PathResult struct {
	Name, Note string
	Throughput []Throughput
	TTFB       Latency
	Err        error
}

func (p PathResult) rate(streams int) (Throughput, bool) {
	for _, t := range p.Throughput {
		if t.Streams == streams {
			return t, true
		}
	}
	return Throughput{}, false
}

type Report struct {
	Settings
	Quick       bool
	Started     time.Time
	Took        time.Duration
	Command     string
	Machine     Machine
	Paths       []PathResult
	Idle        []IdleMemory
	IdleErr     error
	Validate    Validate
	ValidateErr error
	Usage       Usage
	UsageErr    error
	Goals       []Goal
}

func (r *Report) path(name string) (PathResult, bool) {
	for _, p := range r.Paths {
		if p.Name == name && p.Err == nil {
			return p, true
		}
	}
	return PathResult{}, false
}

const (
	nameJSON   = "HTTVPS JSON"
	nameBinary = "HTTVPS binary"
	nameChisel = "chisel"

	largeWindow     = 1 << 20
	nameLargeWindow = "HTTVPS binary, 1 MiB window"
)

// Run measures everything and returns the report; a component that cannot be measured is
// reported as such and the others still run.
func Run(ctx context.Context, o Options) (*Report, error) {
	s := settingsFor(o.Quick)
	r := &Report{Settings: s, Quick: o.Quick, Started: time.Now(), Command: o.Command, Machine: machine()}
	in, err := startInfra(ctx, o.Log, o.Progress)
	if err != nil {
		return nil, fmt.Errorf("start the back end: %w", err)
	}
	defer in.close()

	skipped := errors.New("not selected with -only")
	r.IdleErr, r.ValidateErr, r.UsageErr = skipped, skipped, skipped
	if o.selected(PartPaths) {
		if err := r.measurePaths(ctx, o, in); err != nil {
			return nil, err
		}
	}
	if o.selected(PartIdle) {
		fmt.Fprintln(o.Progress, "measuring gateway memory per idle session ...")
		r.Idle, r.IdleErr = measureIdle(ctx, in, s.IdleCounts)
	}
	if o.selected(PartValidate) {
		fmt.Fprintln(o.Progress, "measuring validate-device against the accounts service ...")
		r.Validate, r.ValidateErr = measureValidate(ctx, in.nc, in.device, region, s.ValidateCount, s.ValidateBudget, in.controlProcs())
	}
	if o.selected(PartUsage) {
		fmt.Fprintln(o.Progress, "measuring usage ingestion by the usage-aggregator ...")
		r.Usage, r.UsageErr = measureUsage(ctx, in, s)
	}
	r.Took = time.Since(r.Started)
	r.Goals = goals(r)
	return r, nil
}

const (
	PartPaths    = "paths"
	PartIdle     = "idle"
	PartValidate = "validate"
	PartUsage    = "usage"
)

// Parts are the names -only accepts.
var Parts = []string{PartPaths, PartIdle, PartValidate, PartUsage}

func (o Options) selected(part string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, part) }

func (r *Report) measurePaths(ctx context.Context, o Options, in *infra) error {
	gw, err := startGatewayChild(ctx, in.gatewayEnv("data"))
	if err != nil {
		return err
	}
	defer gw.stop()
	self := proc{Name: "benchmark (client + target)", PID: os.Getpid()}
	ss := proc{Name: "ss-server", PID: in.ss.PID()}
	gwp := proc{Name: "gateway", PID: gw.PID}
	target := in.target.Addr

	type build func() (Path, error)
	builds := []build{
		func() (Path, error) { p := directPath(target); p.Procs = []proc{self}; return p, nil },
		func() (Path, error) {
			p, err := shadowsocksPath(in.node, target)
			p.Procs = []proc{self, ss}
			return p, err
		},
		func() (Path, error) {
			p, err := httvpsPath(ctx, nameJSON, in.clientConfig(gw, false), target)
			p.Procs = []proc{self, gwp, ss}
			return p, err
		},
		func() (Path, error) {
			p, err := httvpsPath(ctx, nameBinary, in.clientConfig(gw, true), target)
			p.Procs = []proc{self, gwp, ss}
			return p, err
		},
		func() (Path, error) { return in.largeWindow(ctx, self, ss) },
		func() (Path, error) { return in.chisel(ctx, o, gw, self, ss) },
	}
	for _, b := range builds {
		p, err := b()
		if err != nil {
			r.Paths = append(r.Paths, PathResult{Name: p.Name, Err: err})
			fmt.Fprintf(o.Progress, "  path failed: %v\n", err)
			continue
		}
		r.Paths = append(r.Paths, r.measurePath(ctx, o, p))
		p.Close()
	}
	return ctx.Err()
}

func (r *Report) measurePath(ctx context.Context, o Options, p Path) PathResult {
	res := PathResult{Name: p.Name, Note: p.Note}
	fmt.Fprintf(o.Progress, "measuring %s ...\n", p.Name)
	for _, k := range r.StreamCounts {
		t, err := measureThroughput(ctx, p, k, r.Warmup, r.Window)
		if err != nil {
			res.Err = err
			return res
		}
		fmt.Fprintf(o.Progress, "  %3d streams: %8.1f MB/s  fairness %.2f\n", k, t.MBps, t.Fairness)
		res.Throughput = append(res.Throughput, t)
	}
	res.TTFB, res.Err = measureTTFB(ctx, p, r.TTFBSamples, r.TTFBBudget)
	if res.Err == nil {
		fmt.Fprintf(o.Progress, "  first byte: median %s p99 %s (%d samples)\n", res.TTFB.Median, res.TTFB.P99, res.TTFB.N)
	}
	return res
}

func (in *infra) clientConfig(gw *gatewayChild, binary bool) client.Config {
	cfg := client.DefaultConfig()
	cfg.Gateway = gw.URL
	cfg.CAFile = gw.CertFile
	cfg.DeviceID = in.device.DeviceUUID
	cfg.Token = in.device.Token
	cfg.Region = region
	cfg.Binary = binary
	cfg.FlowControl = true
	return cfg
}

// largeWindow is binary mode through a second gateway whose stream window is 1 MiB instead
// of the default, to show what the window costs a single stream.
func (in *infra) largeWindow(ctx context.Context, self, ss proc) (Path, error) {
	gw, err := startGatewayChild(ctx, append(in.gatewayEnv("window"), fmt.Sprintf("HTTVPS_GATEWAY_STREAM_WINDOW=%d", largeWindow)))
	if err != nil {
		return Path{Name: nameLargeWindow}, err
	}
	p, err := httvpsPath(ctx, nameLargeWindow, in.clientConfig(gw, true), in.target.Addr)
	if err != nil {
		gw.stop()
		return p, err
	}
	p.Procs = []proc{self, {Name: "gateway", PID: gw.PID}, ss}
	closeSession := p.Close
	p.Close = func() {
		closeSession()
		gw.stop()
	}
	return p, nil
}

func (in *infra) chisel(ctx context.Context, o Options, gw *gatewayChild, self, ss proc) (Path, error) {
	bin := o.Chisel
	if bin == "" {
		fmt.Fprintln(o.Progress, "building chisel "+chiselVersion+" from deploy/tools ...")
		var err error
		if bin, err = buildChisel(ctx, in.dir); err != nil {
			return Path{Name: nameChisel}, err
		}
	}
	tunnel, err := stack.SSTunnel(ctx, in.node, in.target.Addr)
	if err != nil {
		return Path{Name: nameChisel}, err
	}
	key := gw.CertFile[:len(gw.CertFile)-len("cert.pem")] + "key.pem"
	p, err := startChisel(ctx, bin, gw.CertFile, key, tunnel.Addr, proc{Name: "ss-tunnel", PID: tunnel.PID()}, ss, self)
	if err != nil {
		tunnel.Stop()
		return Path{Name: nameChisel}, err
	}
	stop := p.Close
	p.Close = func() {
		stop()
		tunnel.Stop()
	}
	return p, nil
}

func measureIdle(ctx context.Context, in *infra, counts []int) ([]IdleMemory, error) {
	gw, err := startGatewayChild(ctx, append(in.gatewayEnv("idle"), envProfileRate+"=1"))
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	cfg := in.clientConfig(gw, true)
	warm, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("warm-up session: %w", err)
	}
	_ = warm.Close()
	waitNoSessions(gw, 10*time.Second)
	var out []IdleMemory
	for _, n := range counts {
		m, err := measureIdleSessions(ctx, gw, cfg, n)
		if err != nil {
			return out, err
		}
		out = append(out, m)
		waitNoSessions(gw, time.Minute)
	}
	return out, nil
}

func measureUsage(ctx context.Context, in *infra, s Settings) (Usage, error) {
	var users []int64
	var devices []string
	for i := range s.UsageUsers {
		d, err := in.admin.Subscriber(ctx, fmt.Sprintf("usage-%d", i), 1)
		if err != nil {
			return Usage{}, err
		}
		users, devices = append(users, d.UserID), append(devices, d.DeviceUUID)
	}
	if err := publishUsage(ctx, in.js, users, devices, region, s.UsageReports, s.UsageSessions); err != nil {
		return Usage{}, err
	}
	total, err := pendingUsage(ctx, in.js)
	if err != nil {
		return Usage{}, err
	}
	cpu := watchCPU(in.controlProcs())
	start := time.Now()
	if err := in.svcs.StartAggregator(in.cp); err != nil {
		return Usage{}, err
	}
	if err := waitDrained(ctx, in.js, s.UsageBudget); err != nil {
		return Usage{}, err
	}
	elapsed := time.Since(start)
	shares := cpu.stop()
	var applied int64
	if err := in.db.NewRaw("SELECT coalesce(sum(last_seq), 0) FROM sessions WHERE gateway_node_name = ?", benchGatewayID).Scan(ctx, &applied); err != nil {
		return Usage{}, fmt.Errorf("check sessions: %w", err)
	}
	if applied != int64(s.UsageReports) {
		return Usage{}, fmt.Errorf("the sessions table holds %d of the %d reports", applied, s.UsageReports)
	}
	return Usage{Reports: int(total), PerSec: float64(total) / elapsed.Seconds(), CPU: shares}, nil
}
