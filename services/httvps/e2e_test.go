package httvps_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/httvps"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/uptrace/bun/driver/pgdriver"
)

const downloadSize = 20 << 20

func TestEndToEndDownloadThroughTheTunnelIsAccountedExactly(t *testing.T) {
	for _, mode := range []struct {
		name   string
		binary bool
	}{{"json", false}, {"binary", true}} {
		t.Run(mode.name, func(t *testing.T) {
			env := baseEnv(t, reachableDir(t))
			env["HTTVPS_DATABASE_URL"] = testkit.Postgres(t)
			sys := startSystem(t, env)
			reports := watchUsage(t, sys.NATSURL())

			userID, token := sys.DemoUser()
			ctx, cancel := context.WithCancel(context.Background())
			socks, tunnelDone := startClient(t, ctx, sys, token, sys.Services.Demo.Region, mode.binary)

			up, down := downloadThroughSOCKS(t, socks, sys.DemoPageURL(), downloadSize)

			sessionID := onlySession(t, sys)
			cancel()
			if err := <-tunnelDone; err != nil {
				t.Fatalf("client: %v", err)
			}

			db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(sys.DSN())))
			defer db.Close()
			var gotUp, gotDown, periodUp, periodDown int64
			var ended bool
			testkit.Eventually(t, 20*time.Second, "the session's ended row with its final totals", func() bool {
				err := db.QueryRow(`SELECT bytes_up, bytes_down, ended_at IS NOT NULL FROM sessions WHERE id = $1`, sessionID).Scan(&gotUp, &gotDown, &ended)
				return err == nil && ended && gotUp == up && gotDown == down
			})
			testkit.Eventually(t, 10*time.Second, "the user's period usage", func() bool {
				err := db.QueryRow(`SELECT bytes_up, bytes_down FROM usage_periods WHERE user_id = $1`, userID).Scan(&periodUp, &periodDown)
				return err == nil && periodUp == up && periodDown == down
			})
			if got := reports.forSession(sessionID); got == 0 {
				t.Fatalf("no usage report for session %s seen on %s", sessionID, schemas.SubjectUsageAll)
			}
			if max := reports.maxDown(sessionID); max != down {
				t.Fatalf("largest reported bytes_down = %d, moved %d", max, down)
			}
		})
	}
}

func startClient(t *testing.T, ctx context.Context, sys *httvps.System, token, region string, binary bool) (string, <-chan error) {
	t.Helper()
	cfg := client.DefaultConfig()
	cfg.Gateway = "wss://" + sys.GatewayAddr() + "/ws"
	cfg.Insecure = true
	cfg.DeviceID = "demo-device"
	cfg.Token = token
	cfg.Region = region
	if !binary {
		cfg.SpecOnly()
	}
	log := testkit.Logger(t)
	tunnel := client.NewTunnel(cfg, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &client.SOCKSServer{Opener: tunnel, Log: log, HandshakeTimeout: 5 * time.Second, OpenTimeout: 10 * time.Second}
	done := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(ctx, ln)
	}()
	go func() {
		err := tunnel.Run(ctx)
		wg.Wait()
		done <- err
	}()
	return ln.Addr().String(), done
}

// downloadThroughSOCKS fetches size bytes of the demo page's pattern and checks every byte.
func downloadThroughSOCKS(t *testing.T, socksAddr, pageURL string, size int) (up, down int64) {
	t.Helper()
	u, err := url.Parse(pageURL + "bytes/" + strconv.Itoa(size))
	if err != nil {
		t.Fatal(err)
	}
	conn := socksConnect(t, socksAddr, u.Host)
	defer conn.Close()
	counted := &countingConn{Conn: conn}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.RequestURI(), u.Host)
	if _, err := io.WriteString(counted, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(counted)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("status line %q: %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := br.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != httvps.DemoPattern(off+int64(i)) {
				t.Fatalf("byte %d differs", off+int64(i))
			}
		}
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", off, err)
		}
	}
	if off != int64(size) {
		t.Fatalf("downloaded %d bytes, want %d", off, size)
	}
	return counted.written.Load(), counted.read.Load()
}

func socksConnect(t *testing.T, socksAddr, target string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", socksAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(target)
	port, _ := strconv.Atoi(portStr)
	req := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 2+10)
	if _, err := io.ReadFull(conn, reply); err != nil {
		t.Fatalf("socks reply: %v", err)
	}
	if reply[0] != 5 || reply[1] != 0 || reply[3] != 0 {
		t.Fatalf("socks refused: % x", reply)
	}
	return conn
}

type countingConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

type usageWatch struct {
	mu      sync.Mutex
	reports []schemas.UsageReport
}

func watchUsage(t *testing.T, natsURL string) *usageWatch {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w := &usageWatch{}
	if _, err := nc.Subscribe(schemas.SubjectUsageAll, func(m *nats.Msg) {
		var r schemas.UsageReport
		if json.Unmarshal(m.Data, &r) == nil {
			w.mu.Lock()
			w.reports = append(w.reports, r)
			w.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *usageWatch) forSession(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.reports {
		if r.SessionID == id {
			n++
		}
	}
	return n
}

func (w *usageWatch) maxDown(id string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var m int64
	for _, r := range w.reports {
		if r.SessionID == id && r.BytesDown > m {
			m = r.BytesDown
		}
	}
	return m
}

func onlySession(t *testing.T, sys *httvps.System) string {
	t.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(sys.DSN())))
	defer db.Close()
	var id string
	testkit.Eventually(t, 10*time.Second, "the session row", func() bool {
		return db.QueryRow(`SELECT id FROM sessions WHERE device_uuid = 'demo-device' AND ended_at IS NULL`).Scan(&id) == nil
	})
	return id
}
