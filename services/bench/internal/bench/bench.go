// Package bench measures HTTVPS on the path users run (the httvps-client binary's SOCKS5 front
// end, a gateway process, an ss-server node) side by side with chisel over TLS and one plain
// Shadowsocks hop, in the same run, plus the gateway's memory per idle session and the
// control plane's rates against same-run references. cmd/httvps-bench writes docs/benchmarks.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/rs/zerolog"
)

type Options struct {
	Quick bool
	// Only names the parts to run (paths, udp, idle, validate, usage, quota, abuse); empty runs all.
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
		Warmup: time.Second, Window: 3 * time.Second, StreamCounts: []int{1, 10, 100},
		TTFBSamples: 200, TTFBBudget: 20 * time.Second, IdleCounts: []int{1000, 3000},
		ValidateCount: 30000, ValidateBudget: 10 * time.Second,
		UsageReports: 100000, UsageSessions: 2000, UsageUsers: 50, UsageBudget: 3 * time.Minute,
	}
}

// PathResult is what one path measured; Err is set when it could not be measured.
type PathResult struct {
	Name, Note string
	Tunnel     []string
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
	ClientArgs  string
	Paths       []PathResult
	Idle        []IdleMemory
	IdleErr     error
	Validate    Validate
	Echo        Validate
	ValidateErr error
	Usage       Usage
	Insert      Usage
	UsageErr    error
	QuotaSettings
	Quota    Quota
	QuotaErr error
	UDP      []UDPResult
	UDPErr   error
	AbuseSettings
	Abuse    Abuse
	AbuseErr error
	Goals    []Goal
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
	nameDirect   = "direct TCP"
	nameSS       = "Shadowsocks (ss-local)"
	nameChisel   = "chisel over TLS"
	nameDefaults = "HTTVPS, client defaults"
	nameJSON     = "HTTVPS, JSON only (--json)"
	nameAPI      = "HTTVPS, Go client API in-process"

	nameBench        = "benchmark (SOCKS5 client, target)"
	nameClient       = "httvps-client"
	nameGateway      = "gateway"
	nameSSLocal      = "ss-local"
	nameSSServer     = "ss-server"
	nameChiselClient = "chisel client"
	nameChiselServer = "chisel server"
)

// Run measures everything and returns the report; a component that cannot be measured is
// reported as such and the others still run.
func Run(ctx context.Context, o Options) (*Report, error) {
	s := settingsFor(o.Quick)
	r := &Report{Settings: s, Quick: o.Quick, Started: time.Now(), Command: o.Command, Machine: machine(),
		ClientArgs: strings.Join(append([]string{"httvps-client"}, clientModeArgs(false)...), " ")}
	in, err := startInfra(ctx, o.Log, o.Progress)
	if err != nil {
		return nil, fmt.Errorf("start the back end: %w", err)
	}
	defer in.close()

	skipped := errors.New("not selected with -only")
	r.AbuseSettings, r.QuotaSettings = abuseSettingsFor(o.Quick), quotaSettingsFor(o.Quick)
	r.IdleErr, r.ValidateErr, r.UsageErr, r.UDPErr, r.AbuseErr, r.QuotaErr = skipped, skipped, skipped, skipped, skipped, skipped
	if o.selected(PartPaths) {
		if err := r.measurePaths(ctx, o, in); err != nil {
			return nil, err
		}
	}
	if o.selected(PartUDP) {
		r.UDPErr = r.measureUDP(ctx, o, in)
	}
	if o.selected(PartIdle) {
		fmt.Fprintln(o.Progress, "measuring gateway memory per idle session ...")
		r.Idle, r.IdleErr = measureIdle(ctx, in, s.IdleCounts)
	}
	if o.selected(PartValidate) {
		fmt.Fprintln(o.Progress, "measuring validate-device against the accounts service and a bare NATS micro echo ...")
		r.Validate, r.Echo, r.ValidateErr = measureValidateAndEcho(ctx, in, s)
	}
	if o.selected(PartUsage) {
		fmt.Fprintln(o.Progress, "measuring usage ingestion by the usage-aggregator and a plain multi-row INSERT ...")
		r.Usage, r.Insert, r.UsageErr = measureUsageAndInsert(ctx, in, s)
	}
	if o.selected(PartQuota) {
		fmt.Fprintln(o.Progress, "measuring the traffic quota's overshoot: one session, then four on two gateways ...")
		r.Quota, r.QuotaErr = measureQuota(ctx, in, s, r.QuotaSettings, o.Progress)
	}
	if o.selected(PartAbuse) {
		fmt.Fprintln(o.Progress, "measuring the gateway under abuse (stalled upgrades, 1-byte floods, stream churn) ...")
		r.Abuse, r.AbuseErr = measureAbuse(ctx, in, r.AbuseSettings, o.Progress)
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
	PartUDP      = "udp"
	PartQuota    = "quota"
	PartAbuse    = "abuse"
)

// Parts are the names -only accepts.
var Parts = []string{PartPaths, PartUDP, PartIdle, PartValidate, PartUsage, PartQuota, PartAbuse}

func (o Options) selected(part string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, part) }

func (r *Report) measurePaths(ctx context.Context, o Options, in *infra) error {
	fmt.Fprintln(o.Progress, "building httvps-client and chisel "+chiselVersion+" ...")
	clientBin, err := buildClient(ctx, in.dir)
	if err != nil {
		return err
	}
	chiselBin := o.Chisel
	if chiselBin == "" {
		if chiselBin, err = buildChisel(ctx, in.dir); err != nil {
			return err
		}
	}
	gw, ssLocal, err := startGatewayAndSSLocal(ctx, in, in.gatewayEnv("data"))
	if err != nil {
		return err
	}
	defer gw.stop()
	defer ssLocal.Stop()
	self := proc{Name: nameBench, PID: os.Getpid()}
	ss := proc{Name: nameSSServer, PID: in.ss.PID()}
	gwp := proc{Name: nameGateway, PID: gw.PID}
	sl := proc{Name: nameSSLocal, PID: ssLocal.PID()}
	target := in.target.Addr

	httvps := func(name string, jsonOnly bool) (Path, error) {
		c, err := startHTTVPSClient(ctx, clientBin, gw, in.device, jsonOnly)
		if err != nil {
			return Path{Name: name}, err
		}
		command := strings.Join(append([]string{"httvps-client"}, clientModeArgs(jsonOnly)...), " ")
		note := fmt.Sprintf("SOCKS5 client → `%s` (SOCKS5 front end) → TLS WebSocket → gateway process → ss-server → target", command)
		return socksPath(name, note, c.Addr, target, []proc{self, {Name: nameClient, PID: c.PID()}, gwp, ss},
			[]string{nameClient, nameGateway}, c.Stop), nil
	}
	builds := []func() (Path, error){
		func() (Path, error) { return directPath(target, self), nil },
		func() (Path, error) {
			return socksPath(nameSS, "SOCKS5 client → ss-local → ss-server → target (chacha20-ietf-poly1305)", ssLocal.Addr, target,
				[]proc{self, sl, ss}, []string{nameSSLocal}, func() {}), nil
		},
		func() (Path, error) {
			cc, cs, err := startChisel(ctx, chiselBin, gw.CertFile, gw.KeyFile(), ssLocal.Addr)
			if err != nil {
				return Path{Name: nameChisel}, err
			}
			procs := append(processes([]string{nameChiselClient, nameChiselServer}, cc, cs), self, sl, ss)
			return socksPath(nameChisel, "SOCKS5 client → chisel client → TLS WebSocket (SSH inside) → chisel server → ss-local → ss-server → target",
				cc.Addr, target, procs, []string{nameChiselClient, nameChiselServer}, func() { cc.Stop(); cs.Stop() }), nil
		},
		func() (Path, error) { return httvps(nameDefaults, false) },
		func() (Path, error) { return httvps(nameJSON, true) },
		func() (Path, error) { return apiPath(ctx, in.clientConfig(gw), target, []proc{self, gwp, ss}) },
	}
	for _, b := range builds {
		p, err := b()
		if err == nil {
			err = waitPath(ctx, p)
		}
		if err != nil {
			if p.Close != nil {
				p.Close()
			}
			r.Paths = append(r.Paths, PathResult{Name: p.Name, Err: err})
			fmt.Fprintf(o.Progress, "  %s failed: %v\n", p.Name, err)
			continue
		}
		r.Paths = append(r.Paths, r.measurePath(ctx, o, p))
		p.Close()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) measurePath(ctx context.Context, o Options, p Path) PathResult {
	res := PathResult{Name: p.Name, Note: p.Note, Tunnel: p.Tunnel}
	fmt.Fprintf(o.Progress, "measuring %s ...\n", p.Name)
	res.TTFB, res.Err = measureTTFB(ctx, p, r.TTFBSamples, r.TTFBBudget)
	if res.Err != nil {
		return res
	}
	fmt.Fprintf(o.Progress, "  first byte: median %s p99 %s (%d samples)\n", res.TTFB.Median, res.TTFB.P99, res.TTFB.N)
	for _, k := range r.StreamCounts {
		t, err := measureThroughput(ctx, p, k, r.Warmup, r.Window)
		if err != nil {
			res.Err = err
			return res
		}
		fmt.Fprintf(o.Progress, "  %3d streams: %8.1f MB/s  fairness %.2f\n", k, t.MBps, t.Fairness)
		res.Throughput = append(res.Throughput, t)
	}
	return res
}

// clientConfig is the in-process API client with its defaults.
func (in *infra) clientConfig(gw *gatewayChild) client.Config {
	cfg := client.DefaultConfig()
	cfg.Gateway = gw.URL
	cfg.CAFile = gw.CertFile
	cfg.DeviceID = in.device.DeviceUUID
	cfg.Token = in.device.Token
	cfg.Region = region
	return cfg
}

// withDevice is cfg speaking for device d: one live session per device.
func withDevice(cfg client.Config, d system.Device) client.Config {
	cfg.DeviceID, cfg.Token = d.DeviceUUID, d.Token
	return cfg
}

func measureIdle(ctx context.Context, in *infra, counts []int) ([]IdleMemory, error) {
	env := append(append(in.gatewayEnv("idle"), loopbackCapsOff...), envProfileRate+"=1")
	gw, err := startGatewayChild(ctx, env)
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	cfg := in.clientConfig(gw)
	warm, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("warm-up session: %w", err)
	}
	_ = warm.Close()
	waitNoSessions(gw, 10*time.Second)
	// one device per session: a device holds one live session, a second hello replaces it
	devices, err := in.admin.Devices(ctx, "idle", slices.Max(counts))
	if err != nil {
		return nil, fmt.Errorf("idle devices: %w", err)
	}
	cfgFor := func(i int) client.Config {
		c := cfg
		c.DeviceID, c.Token = devices[i].DeviceUUID, devices[i].Token
		return c
	}
	var out []IdleMemory
	for _, n := range counts {
		m, err := measureIdleSessions(ctx, gw, cfgFor, n)
		if err != nil {
			return out, err
		}
		out = append(out, m)
		waitNoSessions(gw, time.Minute)
	}
	return out, nil
}
