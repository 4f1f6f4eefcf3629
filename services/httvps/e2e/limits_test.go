package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/testkit"
)

const (
	quotaBytes = 2_000_000 // traffic_limit_gb 0.002
	// quotaShortfall bounds what a quota cut may leave undelivered: the queued data is delivered,
	// only the last chunk of each stream read from the target may be dropped
	quotaShortfall = 256 << 10
	downloadSize   = 50 << 20
)

// limitsEnv is the real system with two gateways that lease in small pieces.
type limitsEnv struct {
	t      *testing.T
	sys    *system.System
	admin  system.Admin
	gws    []*system.Unit[*gateway.Service]
	source string
	echo   string
}

func newLimitsEnv(t *testing.T, tune func(*system.Config)) *limitsEnv {
	t.Helper()
	ss, node, err := system.SSServer(context.Background(), region)
	if err != nil {
		t.Fatalf("ss-server: %v", err)
	}
	t.Cleanup(ss.Stop)
	cfg := system.Loopback(t.TempDir())
	cfg.DatabaseURL = testkit.Postgres(t)
	cfg.Outline = []system.Node{node}
	cfg.Gateways = nil
	if tune != nil {
		tune(&cfg)
	}
	e := &limitsEnv{t: t, sys: startSystem(t, cfg)}
	e.admin = e.sys.Admin()
	for _, id := range []string{"gw-a", "gw-b"} {
		gcfg := system.LoopbackGateway(t.TempDir(), id, region)
		gcfg.LeaseBytes = 256 << 10
		gcfg.KeepaliveInterval = 200 * time.Millisecond
		gw, err := e.sys.StartGateway(context.Background(), gcfg)
		if err != nil {
			t.Fatalf("gateway %s: %v", id, err)
		}
		e.gws = append(e.gws, gw)
	}
	e.source = tcpTarget(t, func(c *net.TCPConn) { _, _ = io.CopyN(c, pattern{}, downloadSize) })
	e.echo = tcpTarget(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	return e
}

// pattern is an endless reader of one byte value.
type pattern struct{}

func (pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}

// customer creates a user on a new plan with the given fields, and n devices.
func (e *limitsEnv) customer(plan map[string]any, n int) (int64, []system.Device) {
	e.t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("limits-%d", userSeq.Add(1))
	var user, p struct {
		ID int64 `json:"id"`
	}
	if _, ok := plan["max_devices"]; !ok {
		plan["max_devices"] = n
	}
	plan["name"] = "plan-" + name
	for _, c := range []struct {
		resource string
		body     map[string]any
		out      any
	}{
		{schemas.ResourceUsers, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"}, &user},
		{schemas.ResourcePlans, plan, &p},
	} {
		if err := e.admin.Call(ctx, c.resource, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(e.t, c.body)}, c.out); err != nil {
			e.t.Fatalf("create %s: %v", c.resource, err)
		}
	}
	sub := map[string]any{"user_id": user.ID, "plan_id": p.ID, "days": 30}
	if err := e.admin.Call(ctx, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(e.t, sub)}, nil); err != nil {
		e.t.Fatalf("create subscription: %v", err)
	}
	devices := make([]system.Device, n)
	for i := range devices {
		d, err := e.admin.NewDevice(ctx, user.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		devices[i] = d
	}
	return user.ID, devices
}

func (e *limitsEnv) setLimits(userID int64, limits map[string]any) {
	e.t.Helper()
	for _, k := range []string{"traffic_limit_gb", "speed_limit_mbps", "max_sessions"} {
		if _, ok := limits[k]; !ok {
			limits[k] = nil
		}
	}
	if err := e.admin.Call(context.Background(), schemas.ResourceUsers, schemas.VerbLimits, schemas.AdminRequest{ID: userID, Body: jsonBody(e.t, limits)}, nil); err != nil {
		e.t.Fatalf("set limits: %v", err)
	}
}

func (e *limitsEnv) config(gw int, d system.Device) client.Config {
	cfg := client.DefaultConfig()
	cfg.Gateway = system.WebSocketURL(e.gws[gw].Service)
	cfg.CAFile = e.gws[gw].Service.CertFile()
	cfg.DeviceID, cfg.Token, cfg.Region = d.DeviceUUID, d.Token, region
	return cfg
}

func (e *limitsEnv) dial(gw int, d system.Device) (*client.Session, error) {
	s, err := client.Dial(context.Background(), e.config(gw, d))
	if err == nil {
		e.t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

func (e *limitsEnv) mustDial(gw int, d system.Device) *client.Session {
	e.t.Helper()
	s, err := e.dial(gw, d)
	if err != nil {
		e.t.Fatalf("dial %s: %v", d.DeviceUUID, err)
	}
	return s
}

// refusedWith reports whether err is the handshake refusal code (and limit).
func refusedWith(err error, code schemas.ErrorCode, limit schemas.LimitKind) bool {
	ge, ok := client.AsGatewayError(err)
	return ok && ge.Code == code && ge.Limit == limit
}

// endedWith waits for the session's end and reports whether the gateway ended it with code.
func endedWith(t *testing.T, s *client.Session, code schemas.ErrorCode, limit schemas.LimitKind) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("session still live, want it ended with %s", code)
	}
	if ge, ok := client.AsGatewayError(s.Err()); !ok || ge.Code != code || ge.Limit != limit {
		t.Fatalf("session ended with %v, want %s %s", s.Err(), code, limit)
	}
}

// download reads the source until the stream or the session ends and returns the bytes.
func download(s *client.Session, target string) int64 {
	st, err := s.OpenStream(context.Background(), target)
	if err != nil {
		return 0
	}
	n, _ := io.Copy(io.Discard, st)
	return n
}

func TestLimits(t *testing.T) {
	e := newLimitsEnv(t, nil)

	t.Run("quota: one session ends at the limit and the next hello is refused", func(t *testing.T) {
		_, devs := e.customer(map[string]any{"traffic_limit_gb": 0.002}, 1)
		s := e.mustDial(0, devs[0])
		got := download(s, e.source)
		endedWith(t, s, schemas.CodeLimitReached, schemas.LimitTraffic)
		t.Logf("received %d bytes of a %d-byte quota", got, quotaBytes)
		if got > quotaBytes || got < quotaBytes-quotaShortfall {
			t.Fatalf("received %d bytes, want at most the quota %d and no more than %d below it", got, quotaBytes, quotaShortfall)
		}
		if _, err := e.dial(1, devs[0]); !refusedWith(err, schemas.CodeLimitReached, schemas.LimitTraffic) {
			t.Fatalf("next hello: %v, want LIMIT_REACHED traffic", err)
		}
	})

	t.Run("quota: four sessions on two gateways share it", func(t *testing.T) {
		_, devs := e.customer(map[string]any{"traffic_limit_gb": 0.002}, 4)
		sessions := make([]*client.Session, len(devs))
		for i, d := range devs {
			sessions[i] = e.mustDial(i%2, d)
		}
		var total atomic.Int64
		var wg sync.WaitGroup
		for _, s := range sessions {
			wg.Go(func() { total.Add(download(s, e.source)) })
		}
		wg.Wait()
		for _, s := range sessions {
			endedWith(t, s, schemas.CodeLimitReached, schemas.LimitTraffic)
		}
		t.Logf("four sessions received %d bytes of a %d-byte quota", total.Load(), quotaBytes)
		if total.Load() > quotaBytes || total.Load() < quotaBytes-quotaShortfall {
			t.Fatalf("received %d bytes in all, want at most the quota %d and no more than %d below it", total.Load(), quotaBytes, quotaShortfall)
		}
	})

	t.Run("sessions: the same device twice replaces the first", func(t *testing.T) {
		_, devs := e.customer(map[string]any{}, 1)
		first := e.mustDial(0, devs[0])
		second := e.mustDial(1, devs[0])
		endedWith(t, first, schemas.CodeSessionReplaced, "")
		if err := echoRoundTrip(second, e.echo, blob(11, 4<<10)); err != nil {
			t.Fatalf("the new session: %v", err)
		}
	})

	t.Run("sessions: a user at max_sessions is refused one more", func(t *testing.T) {
		_, devs := e.customer(map[string]any{"max_devices": 3, "max_sessions": 2}, 3)
		e.mustDial(0, devs[0])
		e.mustDial(1, devs[1])
		if _, err := e.dial(0, devs[2]); !refusedWith(err, schemas.CodeLimitReached, schemas.LimitSessions) {
			t.Fatalf("third hello: %v, want LIMIT_REACHED sessions", err)
		}
	})

	t.Run("sessions: two gateways racing for the last slot, exactly one wins", func(t *testing.T) {
		for round := range 3 {
			_, devs := e.customer(map[string]any{"max_devices": 2, "max_sessions": 1}, 2)
			var won, lost atomic.Int32
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Go(func() {
					_, err := e.dial(i, devs[i])
					switch {
					case err == nil:
						won.Add(1)
					case refusedWith(err, schemas.CodeLimitReached, schemas.LimitSessions):
						lost.Add(1)
					default:
						t.Errorf("hello: %v", err)
					}
				})
			}
			wg.Wait()
			if won.Load() != 1 || lost.Load() != 1 {
				t.Fatalf("round %d: %d won, %d lost; want exactly one of each", round, won.Load(), lost.Load())
			}
		}
	})

	t.Run("speed: 40 Mbit/s within 5 percent beside an unlimited user", func(t *testing.T) {
		_, limited := e.customer(map[string]any{"speed_limit_mbps": 40}, 1)
		_, free := e.customer(map[string]any{}, 1)
		rates := make([]float64, 2)
		var wg sync.WaitGroup
		for i, d := range []system.Device{limited[0], free[0]} {
			s := e.mustDial(i, d)
			wg.Go(func() {
				rate, err := measureRate(s, e.source, 12<<20)
				if err != nil {
					t.Error(err)
				}
				rates[i] = rate
			})
		}
		wg.Wait()
		want := 40e6 / 8
		t.Logf("limited user %.2f Mbit/s, unlimited user %.2f Mbit/s", rates[0]*8/1e6, rates[1]*8/1e6)
		if rates[0] < want*0.95 || rates[0] > want*1.05 {
			t.Fatalf("limited user moved %.0f B/s, want %.0f ± 5%%", rates[0], want)
		}
		if rates[1] < 2*want {
			t.Fatalf("unlimited user moved %.0f B/s beside the limited one, want well above its %.0f", rates[1], want)
		}
	})

	t.Run("live change: a raised speed limit reaches the live session within a second", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"speed_limit_mbps": 8}, 1)
		e.raisedSpeed(devs[0], func() { e.setLimits(u, map[string]any{"speed_limit_mbps": 400}) })
	})

	t.Run("live change: a raised quota keeps the live session going", func(t *testing.T) {
		u, devs := e.customer(map[string]any{"traffic_limit_gb": 0.002}, 1)
		st, err := e.mustDial(0, devs[0]).OpenStream(context.Background(), e.source)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, st, 1<<20); err != nil {
			t.Fatal(err)
		}
		e.setLimits(u, map[string]any{"traffic_limit_gb": 0.1})
		if _, err := io.CopyN(io.Discard, st, 8<<20); err != nil {
			t.Fatalf("after raising the quota to 100 MB: %v", err)
		}
	})
}

// raisedSpeed downloads on a session limited to 8 Mbit/s, runs raise (to 400 Mbit/s) and checks
// that the next 8 MiB, 8 s at the old limit, come at the new one.
func (e *limitsEnv) raisedSpeed(d system.Device, raise func()) {
	t := e.t
	t.Helper()
	st, err := e.mustDial(0, d).OpenStream(context.Background(), e.source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, st, 2<<20); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	raise()
	if _, err := io.CopyN(io.Discard, st, 8<<20); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("8 MiB after raising 8 to 400 Mbit/s took %s (8 s at the old limit)", took)
	if took > 4*time.Second {
		t.Fatalf("8 MiB took %s after the change, want the new limit long before the old one's 8 s", took)
	}
}

// measureRate downloads size bytes and returns the bytes per second after the first 2 MiB (past
// the bucket's initial burst).
func measureRate(s *client.Session, target string, size int64) (float64, error) {
	st, err := s.OpenStream(context.Background(), target)
	if err != nil {
		return 0, err
	}
	if _, err := io.CopyN(io.Discard, st, 2<<20); err != nil {
		return 0, err
	}
	start := time.Now()
	rest := size - 2<<20
	if _, err := io.CopyN(io.Discard, st, rest); err != nil {
		return 0, err
	}
	return float64(rest) / time.Since(start).Seconds(), nil
}

func TestSlotsOfAKilledGatewayAreReleased(t *testing.T) {
	e := newLimitsEnv(t, func(c *system.Config) { c.Aggregator.SlotTTL = time.Second })
	_, devs := e.customer(map[string]any{"max_devices": 2, "max_sessions": 1}, 2)
	proc, url, cert := startGatewayProcess(t, e.sys.NATSURL(), "gw-killed")
	cfg := e.config(0, devs[0])
	cfg.Gateway, cfg.CAFile = url, cert
	s, err := client.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("hello on the gateway process: %v", err)
	}
	defer s.Close()
	if _, err := e.dial(0, devs[1]); !refusedWith(err, schemas.CodeLimitReached, schemas.LimitSessions) {
		t.Fatalf("second device while the first holds the slot: %v, want LIMIT_REACHED sessions", err)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	testkit.Eventually(t, 20*time.Second, "the killed gateway's slot is released", func() bool {
		_, err := e.dial(0, devs[1])
		return err == nil
	})
}

// startGatewayProcess builds and runs cmd/httvps-gateway; it returns its URL and certificate.
func startGatewayProcess(t *testing.T, natsURL, id string) (*exec.Cmd, string, string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "httvps-gateway")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/httvps-gateway")
	build.Dir = filepath.Join("..", "..", "gateway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), config.EnvMode+"="+config.ModeDevelopment,
		gateway.EnvGatewayID+"="+id, gateway.EnvRegion+"="+region, gateway.EnvNATSURL+"="+natsURL,
		gateway.EnvListen+"="+addr, gateway.EnvTLSDir+"="+dir, gateway.EnvAllowTargets+"=127.0.0.0/8",
		gateway.EnvKeepaliveInterval+"=200ms", gateway.EnvLogLevel+"=warn")
	cmd.Stderr = testkit.LogWriter(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	cert := filepath.Join(dir, "gateway-cert.pem")
	testkit.Eventually(t, 20*time.Second, "gateway process listening", func() bool {
		if _, err := os.Stat(cert); err != nil {
			return false
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return cmd, "wss://" + addr + "/ws", cert
}

func jsonBody(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
