package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
)

// RoleGateway is the -role value that makes the benchmark binary run a gateway in its own
// process, plus a control endpoint reporting its memory.
const RoleGateway = "gateway"

const readyPrefix = "HTTVPS-BENCH-GATEWAY"

// Mem is the gateway process's memory after a forced collection.
type Mem struct {
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	RSS        uint64 `json:"rss"`
	Goroutines int    `json:"goroutines"`
	Sessions   int    `json:"sessions"`
	Streams    int    `json:"streams"`
	// Charged is what the gateway's memory budget holds (memory_charged_bytes).
	Charged int64 `json:"charged"`
	// Counters are the gateway's httvps_gateway_* counters, keyed name{label="value"}.
	Counters map[string]float64 `json:"counters"`
	// Sites is the in-use heap by allocation site, when the child samples every allocation.
	Sites map[string]int64 `json:"sites,omitempty"`
}

// envProfileRate sets runtime.MemProfileRate in the gateway child.
const envProfileRate = "HTTVPS_BENCH_MEMPROFILE_RATE"

// RunGatewayChild serves the gateway configured by the HTTVPS_* environment, built by the
// system builder on the parent's NATS and PostgreSQL, until stdin closes, printing its
// addresses on stdout.
func RunGatewayChild() error {
	if rate, err := strconv.Atoi(os.Getenv(envProfileRate)); err == nil && rate > 0 {
		runtime.MemProfileRate, profiled = rate, true
	}
	env := config.FromOS()
	gw := gateway.LoadConfig(env)
	dsn := env.Required(app.EnvDatabaseURL)
	if err := env.Err(); err != nil {
		return err
	}
	log, err := logging.New(gw.LogLevel, os.Stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		cancel()
	}()
	cfg := system.Config{NATSURLs: strings.Split(gw.NATSURL, ","), Streams: natsx.DefaultStreams(), DatabaseURL: dsn, Pool: db.DefaultPool(), Gateways: []gateway.Config{gw}}
	sys, err := system.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	unit := sys.Gateways()[0]
	svc := unit.Service
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = sys.Stop()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		sessions, streams := svc.Counts()
		_ = json.NewEncoder(w).Encode(Mem{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, RSS: selfRSS(),
			Goroutines: runtime.NumGoroutine(), Sessions: sessions, Streams: streams, Sites: heapSites(),
			Charged: svc.MemoryCharged(), Counters: counters(unit.Registry)})
	})
	go func() { _ = http.Serve(ctl, mux) }()
	fmt.Printf("%s %s %s %s\n", readyPrefix, svc.Addr(), ctl.Addr(), svc.CertFile())
	return sys.Run(ctx)
}

// profiled is set when the child was asked to sample allocations for heapSites.
var profiled bool

// heapSites sums the in-use heap by the first two frames outside the runtime, scaled up from
// the samples as pprof does when not every allocation is sampled.
func heapSites() map[string]int64 {
	if !profiled {
		return nil
	}
	n, _ := runtime.MemProfile(nil, true)
	recs := make([]runtime.MemProfileRecord, n+256)
	n, ok := runtime.MemProfile(recs, true)
	if !ok {
		return nil
	}
	out := map[string]int64{}
	rate := float64(runtime.MemProfileRate)
	for _, r := range recs[:n] {
		bytes := float64(r.InUseBytes())
		if objects := r.InUseObjects(); rate > 1 && objects > 0 {
			bytes /= 1 - math.Exp(-bytes/float64(objects)/rate)
		}
		out[site(r.Stack())] += int64(bytes)
	}
	return out
}

func site(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	var names []string
	for len(names) < 2 {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "internal/runtime/") {
			name := strings.TrimPrefix(f.Function, "github.com/httvps/httvps/services/")
			names = append(names, strings.TrimPrefix(name, "github.com/"))
		}
		if !more {
			break
		}
	}
	if len(names) == 0 {
		return "runtime"
	}
	return strings.Join(names, " ← ")
}

func selfRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// gatewayChild is the gateway running in a child process.
type gatewayChild struct {
	PID      int
	URL      string
	CertFile string
	ctl      string
	cmd      *exec.Cmd
	stdin    interface{ Close() error }
	done     chan error
}

func startGatewayChild(ctx context.Context, env []string) (*gatewayChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", RoleGateway)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway child: %w", err)
	}
	g := &gatewayChild{PID: cmd.Process.Pid, cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), readyPrefix) {
				lines <- sc.Text()
			}
		}
	}()
	go func() { g.done <- cmd.Wait() }()
	select {
	case line := <-lines:
		f := strings.Fields(line)
		g.URL, g.ctl, g.CertFile = "wss://"+f[1]+"/ws", f[2], f[3]
		return g, nil
	case err := <-g.done:
		return nil, fmt.Errorf("gateway child exited: %v", err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("gateway child not ready within 30s")
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, ctx.Err()
	}
}

// KeyFile is the private key next to the gateway's self-signed certificate.
func (g *gatewayChild) KeyFile() string {
	return strings.TrimSuffix(g.CertFile, "cert.pem") + "key.pem"
}

func (g *gatewayChild) mem() (Mem, error) {
	c := http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + g.ctl + "/mem")
	if err != nil {
		return Mem{}, err
	}
	defer resp.Body.Close()
	var m Mem
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

func (g *gatewayChild) stop() {
	_ = g.stdin.Close()
	select {
	case <-g.done:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}
