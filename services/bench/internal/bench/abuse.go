package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/httvps/httvps/services/client"
)

// AbuseSettings bound the protection scenarios in count and time.
type AbuseSettings struct {
	PrefaceConns   int
	HelloTimeout   time.Duration
	FloodSessions  int
	FloodStreams   int
	FloodWindow    time.Duration
	GatewayMemory  int
	SessionMemory  int
	ChurnSessions  int
	ChurnWorkers   int
	ChurnWindow    time.Duration
	BaselineWait   time.Duration
}

func abuseSettingsFor(quick bool) AbuseSettings {
	s := AbuseSettings{
		PrefaceConns: 5000, HelloTimeout: 15 * time.Second,
		FloodSessions: 100, FloodStreams: 64, FloodWindow: 10 * time.Second,
		GatewayMemory: 128 << 20, SessionMemory: 4 << 20,
		ChurnSessions: 2, ChurnWorkers: 4, ChurnWindow: 10 * time.Second,
		BaselineWait: time.Minute,
	}
	if quick {
		s.PrefaceConns, s.HelloTimeout = 500, 5*time.Second
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
	Scenario                string
	Goroutines, FDs         int
	AfterGoroutines, AfterFDs int
	Err                     error
}

func (b Baseline) returned() bool {
	return b.Err == nil && b.AfterGoroutines <= b.Goroutines && b.AfterFDs <= b.FDs
}

// abuseEnv is the gateway child of the protection scenarios: every connection comes from
// 127.0.0.1, so the per-address and handshake caps are off; the memory budgets are small.
func (in *infra) abuseEnv(s AbuseSettings) []string {
	return append(in.gatewayEnv("abuse"),
		"HTTVPS_HELLO_TIMEOUT="+s.HelloTimeout.String(),
		"HTTVPS_GATEWAY_MAX_SESSIONS_PER_ADDRESS=0",
		"HTTVPS_GATEWAY_MAX_HANDSHAKES=0",
		fmt.Sprintf("HTTVPS_GATEWAY_MEMORY=%d", s.GatewayMemory),
		fmt.Sprintf("HTTVPS_GATEWAY_SESSION_MEMORY=%d", s.SessionMemory),
	)
}

// measureAbuse runs the protection scenarios one after another on one gateway child and
// checks after each that the gateway's goroutines and descriptors are back at their baseline.
func measureAbuse(ctx context.Context, in *infra, s AbuseSettings, progress io.Writer) (Abuse, error) {
	gw, err := startGatewayChild(ctx, in.abuseEnv(s))
	if err != nil {
		return Abuse{}, err
	}
	defer gw.stop()
	cfg := in.clientConfig(gw)
	if err := warmUp(ctx, gw, cfg, in.target.Addr); err != nil {
		return Abuse{}, err
	}
	var a Abuse
	run := func(name string, scenario func() error) {
		fmt.Fprintf(progress, "  %s ...\n", name)
		b := Baseline{Scenario: name}
		base, err := gw.mem()
		if err == nil {
			b.Goroutines = base.Goroutines
			b.FDs, err = openFDs(gw.PID)
		}
		if err != nil {
			b.Err = err
			a.Baselines = append(a.Baselines, b)
			return
		}
		if err := scenario(); err != nil {
			fmt.Fprintf(progress, "    failed: %v\n", err)
		}
		b.AfterGoroutines, b.AfterFDs, b.Err = waitBaseline(ctx, gw, b, s.BaselineWait)
		a.Baselines = append(a.Baselines, b)
	}
	run(scenarioPreface, func() error {
		a.Preface, a.PrefaceErr = measurePreface(ctx, gw, s)
		return a.PrefaceErr
	})
	run(scenarioFlood, func() error {
		a.Flood, a.FloodErr = measureFlood(ctx, gw, cfg, s)
		return a.FloodErr
	})
	run(scenarioChurn, func() error {
		a.Churn, a.ChurnErr = measureChurn(ctx, gw, cfg, in.target.Addr, s)
		return a.ChurnErr
	})
	return a, ctx.Err()
}

const (
	scenarioPreface = "WebSocket upgrade and one frame header, then nothing"
	scenarioFlood   = "1-byte frames to targets that never read"
	scenarioChurn   = "stream_open/abort churn next to bulk downloads"
)

// warmUp runs one session with one stream so that lazily started parts of the gateway are
// running before the first baseline.
func warmUp(ctx context.Context, gw *gatewayChild, cfg client.Config, target string) error {
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
		m, err := gw.mem()
		if err != nil {
			return 0, 0, err
		}
		fds, err := openFDs(gw.PID)
		if err != nil {
			return 0, 0, err
		}
		if (m.Goroutines <= b.Goroutines && fds <= b.FDs) || time.Now().After(deadline) || ctx.Err() != nil {
			return m.Goroutines, fds, ctx.Err()
		}
		sleep(ctx, 200*time.Millisecond)
	}
}
