package bench

import (
	"context"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"io"
	"time"

	"github.com/httvps/httvps/services/client"
)

// AbuseSettings bound the protection scenarios in count and time.
type AbuseSettings struct {
	PrefaceConns  int
	HelloTimeout  time.Duration
	FloodSessions int
	FloodStreams  int
	FloodWindow   time.Duration
	GatewayMemory int
	SessionMemory int
	ChurnSessions int
	ChurnWorkers  int
	ChurnWindow   time.Duration
	BaselineWait  time.Duration
}

func abuseSettingsFor(quick bool) AbuseSettings {
	s := AbuseSettings{
		PrefaceConns: 5000, HelloTimeout: 90 * time.Second,
		FloodSessions: 100, FloodStreams: 64, FloodWindow: 10 * time.Second,
		GatewayMemory: 128 << 20, SessionMemory: 4 << 20,
		ChurnSessions: 2, ChurnWorkers: 4, ChurnWindow: 10 * time.Second,
		BaselineWait: time.Minute,
	}
	if quick {
		s.PrefaceConns, s.HelloTimeout = 500, 20*time.Second
		s.FloodSessions, s.FloodStreams, s.FloodWindow = 20, 32, 3*time.Second
		s.ChurnWindow = 3 * time.Second
	}
	return s
}

// Abuse is what the protection scenarios measured on one gateway child.
type Abuse struct {
	Preface   Preface
	Flood     Flood
	Churn     Churn
	Baselines []Baseline
	// PrefaceErr, FloodErr and ChurnErr are set when a scenario could not be measured.
	PrefaceErr, FloodErr, ChurnErr error
}

// Baseline is the gateway's goroutines and file descriptors before a scenario and once it ended.
type Baseline struct {
	Scenario                  string
	Goroutines, FDs           int
	AfterGoroutines, AfterFDs int
	Err                       error
}

func (b Baseline) returned() bool {
	return b.Err == nil && b.AfterGoroutines <= b.Goroutines && b.AfterFDs <= b.FDs
}

// loopbackCapsOff turns off the per-address and handshake caps of a gateway child whose
// many connections all come from 127.0.0.1.
var loopbackCapsOff = []string{"HTTVPS_GATEWAY_MAX_SESSIONS_PER_ADDRESS=0", "HTTVPS_GATEWAY_MAX_HANDSHAKES=0"}

// abuseEnv is the gateway child of the protection scenarios: every connection comes from
// 127.0.0.1, so the per-address and handshake caps are off; the memory budgets are small.
func (in *infra) abuseEnv(s AbuseSettings) []string {
	return append(append(in.gatewayEnv("abuse"), loopbackCapsOff...),
		"HTTVPS_HELLO_TIMEOUT="+s.HelloTimeout.String(),
		fmt.Sprintf("HTTVPS_GATEWAY_MEMORY=%d", s.GatewayMemory),
		fmt.Sprintf("HTTVPS_GATEWAY_SESSION_MEMORY=%d", s.SessionMemory),
	)
}

// floodProfileRate samples one allocation per 64 KiB in the flood: sampling every one makes
// the memory reads of a gateway holding thousands of streams too slow.
const floodProfileRate = 64 << 10

// measureAbuse runs the protection scenarios one after another, each on its own gateway
// child, and checks after each that the child's goroutines and descriptors are back at the
// baseline they had before it. The memory scenarios sample allocations to show where the
// memory goes; the churn scenario does not, as it measures throughput.
func measureAbuse(ctx context.Context, in *infra, s AbuseSettings, progress io.Writer) (Abuse, error) {
	var a Abuse
	run := func(name string, profile int, scenario func(gw *gatewayChild, cfg client.Config) error) error {
		fmt.Fprintf(progress, "  %s ...\n", name)
		env := in.abuseEnv(s)
		if profile > 0 {
			env = append(env, fmt.Sprintf("%s=%d", envProfileRate, profile))
		}
		gw, err := startGatewayChild(ctx, env)
		if err != nil {
			return err
		}
		defer gw.stop()
		cfg := in.clientConfig(gw)
		if err := warmUp(ctx, cfg, in.target.Addr); err != nil {
			return err
		}
		b := Baseline{Scenario: name}
		if b.Goroutines, b.FDs, err = gw.goroutinesAndFDs(); err != nil {
			return err
		}
		if err := scenario(gw, cfg); err != nil {
			fmt.Fprintf(progress, "    failed: %v\n", err)
		}
		b.AfterGoroutines, b.AfterFDs, b.Err = waitBaseline(ctx, gw, b, s.BaselineWait)
		a.Baselines = append(a.Baselines, b)
		return nil
	}
	steps := []struct {
		name    string
		profile int
		run     func(gw *gatewayChild, cfg client.Config) error
	}{
		{scenarioPreface, 1, func(gw *gatewayChild, _ client.Config) error {
			a.Preface, a.PrefaceErr = measurePreface(ctx, gw, s)
			return a.PrefaceErr
		}},
		{scenarioFlood, floodProfileRate, func(gw *gatewayChild, cfg client.Config) error {
			a.Flood, a.FloodErr = measureFlood(ctx, gw, cfg, in, s)
			return a.FloodErr
		}},
		{scenarioChurn, 0, func(gw *gatewayChild, cfg client.Config) error {
			a.Churn, a.ChurnErr = measureChurn(ctx, gw, cfg, in, s)
			return a.ChurnErr
		}},
	}
	for _, st := range steps {
		if err := run(st.name, st.profile, st.run); err != nil {
			return a, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return a, ctx.Err()
}

const (
	scenarioPreface = "WebSocket upgrade and one frame header, then nothing"
	scenarioFlood   = "1-byte frames to targets that never read"
	scenarioChurn   = "stream_open/abort churn next to bulk downloads"
)

// warmUp runs one session with one stream so that lazily started parts of the gateway are
// running before the first baseline.
func warmUp(ctx context.Context, cfg client.Config, target string) error {
	s, err := client.Dial(ctx, cfg)
	if err != nil {
		return fmt.Errorf("warm-up session: %w", err)
	}
	defer s.Close()
	st, err := s.OpenStream(ctx, target)
	if err != nil {
		return fmt.Errorf("warm-up stream: %w", err)
	}
	defer st.Close()
	if err := request(st, 1); err != nil {
		return fmt.Errorf("warm-up stream: %w", err)
	}
	var one [1]byte
	if _, err := io.ReadFull(st, one[:]); err != nil {
		return fmt.Errorf("warm-up stream: %w", err)
	}
	return nil
}

// waitBaseline polls the gateway until its goroutines and descriptors are at most the
// baseline's, at most d; it returns the last values seen.
func waitBaseline(ctx context.Context, gw *gatewayChild, b Baseline, d time.Duration) (goroutines, fds int, err error) {
	deadline := time.Now().Add(d)
	for {
		if goroutines, fds, err = gw.goroutinesAndFDs(); err != nil {
			return goroutines, fds, err
		}
		if (goroutines <= b.Goroutines && fds <= b.FDs) || time.Now().After(deadline) || ctx.Err() != nil {
			return goroutines, fds, ctx.Err()
		}
		pause.For(ctx, 200*time.Millisecond)
	}
}

func (g *gatewayChild) goroutinesAndFDs() (int, int, error) {
	m, err := g.mem()
	if err != nil {
		return 0, 0, fmt.Errorf("gateway memory: %w", err)
	}
	fds, err := openFDs(g.PID)
	return m.Goroutines, fds, err
}
