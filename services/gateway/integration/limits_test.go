package integration_test

import (
	"fmt"
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
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/testkit"
)

const (
	quotaBytes   = 2_000_000 // traffic_limit_gb 0.002
	downloadSize = 50 << 20
)

var seq atomic.Int64

// customer creates a user on a new plan with the given fields and n devices.
func (cp *controlPlane) customer(t *testing.T, plan map[string]any, n int) (int64, []device) {
	t.Helper()
	name := fmt.Sprintf("u%d", seq.Add(1))
	var user, p struct {
		ID int64 `json:"id"`
	}
	cp.admin(t, schemas.ResourceUsers, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"identifier": name + "@example.com", "identifier_kind": "email"})}, &user)
	plan["name"] = "plan-" + name
	if _, ok := plan["max_devices"]; !ok {
		plan["max_devices"] = n
	}
	cp.admin(t, schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, plan)}, &p)
	cp.admin(t, schemas.ResourceSubscriptions, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"user_id": user.ID, "plan_id": p.ID, "days": 30})}, nil)
	devices := make([]device, n)
	for i := range devices {
		cp.admin(t, schemas.ResourceDevices, schemas.VerbCreate, schemas.AdminRequest{Body: jsonBody(t, map[string]any{"user_id": user.ID, "platform": "linux"})}, &devices[i])
	}
	return user.ID, devices
}

func (cp *controlPlane) setLimits(t *testing.T, userID int64, limits map[string]any) {
	t.Helper()
	for _, k := range []string{"traffic_limit_gb", "speed_limit_mbps", "max_sessions"} {
		if _, ok := limits[k]; !ok {
			limits[k] = nil
		}
	}
	cp.admin(t, schemas.ResourceUsers, schemas.VerbLimits, schemas.AdminRequest{ID: userID, Body: jsonBody(t, limits)}, nil)
}

func hello(d device) schemas.Hello {
	return schemas.Hello{DeviceID: d.UUID, AccessToken: d.AccessToken, Region: testenv.Region,
		Features: []string{schemas.FeatureBinary, schemas.FeatureFlowControl}}
}

func connect(t *testing.T, g *testenv.Gateway, d device) *testenv.Client {
	t.Helper()
	c, refusal := testenv.Connect(t, g, hello(d))
	if refusal != nil {
		t.Fatalf("hello of %s refused: %+v", d.UUID, *refusal)
	}
	return c
}

// download reads the source target's bytes until the session or stream ends.
func download(c *testenv.Client, addr string) int {
	data, _ := c.Open(addr).ReadN(downloadSize, 60*time.Second)
	return len(data)
}

func limitsGateway(t *testing.T, ns *testkit.NATSServer, id string) *testenv.Gateway {
	return testenv.StartGateway(t, ns.URL, func(c *gateway.Config) {
		c.GatewayID = id
		c.LeaseBytes = 256 << 10
		c.KeepaliveInterval = 200 * time.Millisecond
	})
}

func TestLimits(t *testing.T) {
	ns := testkit.NATS(t)
	cp := startControlPlane(t, ns)
	cp.addRegion(t, testenv.Region)
	node := testenv.OutlineServer(t, 0, testenv.Region)
	node.NodeID = cp.addNode(t, node)
	gwA, gwB := limitsGateway(t, ns, "gw-a"), limitsGateway(t, ns, "gw-b")
	source := testenv.SourceTarget(t, downloadSize)
	echo := testenv.EchoTarget(t)

	t.Run("quota: one session ends at the limit and the next hello is refused", func(t *testing.T) {
		_, devs := cp.customer(t, map[string]any{"traffic_limit_gb": 0.002}, 1)
		c := connect(t, gwA, devs[0])
		got := download(c, source.Addr)
		e, err := c.NextError(10 * time.Second)
		if err != nil || e.Code != schemas.CodeLimitReached || e.Limit != schemas.LimitTraffic {
			t.Fatalf("error = %+v (%v), want LIMIT_REACHED traffic", e, err)
		}
		t.Logf("received %d bytes of a %d-byte quota", got, quotaBytes)
		if got > quotaBytes || got < quotaBytes-(1<<20) {
			t.Fatalf("received %d bytes, want at most the quota %d and most of it", got, quotaBytes)
		}
		_, refusal := testenv.Connect(t, gwB, hello(devs[0]))
		if refusal == nil || refusal.Code != schemas.CodeLimitReached || refusal.Limit != schemas.LimitTraffic {
			t.Fatalf("next hello = %+v, want LIMIT_REACHED traffic", refusal)
		}
	})

	t.Run("quota: four sessions on two gateways share it", func(t *testing.T) {
		_, devs := cp.customer(t, map[string]any{"traffic_limit_gb": 0.002}, 4)
		var total atomic.Int64
		var wg sync.WaitGroup
		clients := make([]*testenv.Client, len(devs))
		for i, d := range devs {
			clients[i] = connect(t, []*testenv.Gateway{gwA, gwB}[i%2], d)
		}
		for i, c := range clients {
			wg.Go(func() {
				total.Add(int64(download(c, source.Addr)))
				if e, err := c.NextError(10 * time.Second); err != nil || e.Code != schemas.CodeLimitReached {
					t.Errorf("session %d: error = %+v (%v), want LIMIT_REACHED", i, e, err)
				}
			})
		}
		wg.Wait()
		t.Logf("four sessions received %d bytes of a %d-byte quota", total.Load(), quotaBytes)
		if total.Load() > quotaBytes || total.Load() < quotaBytes-(1<<20) {
			t.Fatalf("received %d bytes in all, want at most the quota %d and most of it", total.Load(), quotaBytes)
		}
	})

	t.Run("sessions: the same device twice replaces the first", func(t *testing.T) {
		_, devs := cp.customer(t, map[string]any{}, 1)
		first := connect(t, gwA, devs[0])
		second := connect(t, gwB, devs[0])
		if e, err := first.NextError(5 * time.Second); err != nil || e.Code != schemas.CodeSessionReplaced {
			t.Fatalf("first session: error = %+v (%v), want SESSION_REPLACED", e, err)
		}
		if err := roundTrip(second, echo.Addr, 4<<10); err != nil {
			t.Fatalf("the new session: %v", err)
		}
	})

	t.Run("sessions: a user at max_sessions is refused one more", func(t *testing.T) {
		_, devs := cp.customer(t, map[string]any{"max_devices": 3, "max_sessions": 2}, 3)
		connect(t, gwA, devs[0])
		connect(t, gwB, devs[1])
		_, refusal := testenv.Connect(t, gwA, hello(devs[2]))
		if refusal == nil || refusal.Code != schemas.CodeLimitReached || refusal.Limit != schemas.LimitSessions {
			t.Fatalf("third hello = %+v, want LIMIT_REACHED sessions", refusal)
		}
	})

	t.Run("sessions: two gateways racing for the last slot, exactly one wins", func(t *testing.T) {
		for round := range 3 {
			_, devs := cp.customer(t, map[string]any{"max_devices": 2, "max_sessions": 1}, 2)
			var won, lost atomic.Int32
			var wg sync.WaitGroup
			for i, g := range []*testenv.Gateway{gwA, gwB} {
				wg.Go(func() {
					_, refusal := testenv.Connect(t, g, hello(devs[i]))
					switch {
					case refusal == nil:
						won.Add(1)
					case refusal.Code == schemas.CodeLimitReached && refusal.Limit == schemas.LimitSessions:
						lost.Add(1)
					default:
						t.Errorf("hello: %+v", *refusal)
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
		_, limited := cp.customer(t, map[string]any{"speed_limit_mbps": 40}, 1)
		_, free := cp.customer(t, map[string]any{}, 1)
		const size = 12 << 20
		rates := make([]float64, 2)
		var wg sync.WaitGroup
		for i, d := range []device{limited[0], free[0]} {
			c := connect(t, []*testenv.Gateway{gwA, gwB}[i], d)
			wg.Go(func() {
				rate, err := measureRate(c, source.Addr, size)
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
		u, devs := cp.customer(t, map[string]any{"speed_limit_mbps": 8}, 1)
		c := connect(t, gwA, devs[0])
		st := c.Open(source.Addr)
		if _, err := st.ReadN(1<<20, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cp.setLimits(t, u, map[string]any{"speed_limit_mbps": 400})
		if _, err := st.ReadN(8<<20, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("8 MiB after raising 8 to 400 Mbit/s took %s (8 s at the old limit)", took)
		if took > 2*time.Second {
			t.Fatalf("8 MiB took %s after the change, want the new limit within a second", took)
		}
	})

	t.Run("live change: a raised quota keeps the live session going", func(t *testing.T) {
		u, devs := cp.customer(t, map[string]any{"traffic_limit_gb": 0.002}, 1)
		c := connect(t, gwA, devs[0])
		st := c.Open(source.Addr)
		if _, err := st.ReadN(1<<20, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		cp.setLimits(t, u, map[string]any{"traffic_limit_gb": 0.1})
		if _, err := st.ReadN(8<<20, 20*time.Second); err != nil {
			t.Fatalf("after raising the quota to 100 MB: %v", err)
		}
	})
}

// measureRate downloads size bytes and returns the bytes per second after the first 2 MiB (past
// the bucket's initial burst).
func measureRate(c *testenv.Client, addr string, size int) (float64, error) {
	st := c.Open(addr)
	if _, err := st.ReadN(2<<20, 20*time.Second); err != nil {
		return 0, err
	}
	start := time.Now()
	rest := size - 2<<20
	if _, err := st.ReadN(rest, 60*time.Second); err != nil {
		return 0, err
	}
	return float64(rest) / time.Since(start).Seconds(), nil
}

func TestSlotsOfAKilledGatewayAreReleased(t *testing.T) {
	ns := testkit.NATS(t)
	cp := startControlPlaneWith(t, ns, func(c *usageaggregator.Config) { c.SlotTTL = time.Second })
	cp.addRegion(t, testenv.Region)
	node := testenv.OutlineServer(t, 0, testenv.Region)
	node.NodeID = cp.addNode(t, node)
	live := limitsGateway(t, ns, "gw-live")
	_, devs := cp.customer(t, map[string]any{"max_devices": 2, "max_sessions": 1}, 2)

	proc, url, cert := startGatewayProcess(t, ns.URL, "gw-killed")
	c, refusal := testenv.ConnectURL(t, url, cert, hello(devs[0]))
	if refusal != nil {
		t.Fatalf("hello on the gateway process: %+v", *refusal)
	}
	_ = c
	if _, refusal := testenv.Connect(t, live, hello(devs[1])); refusal == nil || refusal.Limit != schemas.LimitSessions {
		t.Fatalf("second device while the first holds the slot: %+v, want LIMIT_REACHED sessions", refusal)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	testkit.Eventually(t, 20*time.Second, "the killed gateway's slot is released", func() bool {
		c, refusal := testenv.Connect(t, live, hello(devs[1]))
		if refusal == nil {
			c.Close()
		}
		return refusal == nil
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
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := testkit.FreePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		gateway.EnvGatewayID+"="+id, gateway.EnvRegion+"="+testenv.Region, gateway.EnvNATSURL+"="+natsURL,
		gateway.EnvListen+"=127.0.0.1:"+strconv.Itoa(port), gateway.EnvTLSDir+"="+dir,
		gateway.EnvAllowTargets+"=127.0.0.0/8", gateway.EnvKeepaliveInterval+"=200ms", gateway.EnvLogLevel+"=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	cert := filepath.Join(dir, "gateway-cert.pem")
	url := "wss://127.0.0.1:" + strconv.Itoa(port) + "/ws"
	testkit.Eventually(t, 20*time.Second, "gateway process listening", func() bool {
		_, err := os.Stat(cert)
		if err != nil {
			return false
		}
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return cmd, url, cert
}
