package cluster_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/testkit"
)

// gatewayProcess is the httvps-gateway binary run as its own process.
type gatewayProcess struct {
	bin  string
	env  []string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "httvps-gateway")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/httvps/httvps/services/gateway/cmd/httvps-gateway").CombinedOutput()
	if err != nil {
		t.Fatalf("build httvps-gateway: %v\n%s", err, out)
	}
	return bin
}

func newGatewayProcess(t *testing.T, s *system, id string) *gatewayProcess {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t)))
	env := append(os.Environ(),
		"HTTVPS_NATS_URL="+s.nats.URLs(2),
		"HTTVPS_GATEWAY_ID="+id,
		"HTTVPS_GATEWAY_REGION="+region,
		"HTTVPS_GATEWAY_LISTEN="+addr,
		"HTTVPS_GATEWAY_TLS_DIR="+t.TempDir(),
		"HTTVPS_GATEWAY_ALLOW_TARGETS=127.0.0.0/8",
		"HTTVPS_USAGE_INTERVAL=200ms",
		"HTTVPS_HEARTBEAT_INTERVAL=500ms",
		"HTTVPS_LOG_LEVEL=warn",
		// Plain loopback NATS without identities is development, which production mode refuses.
		config.EnvMode+"="+config.ModeDevelopment,
	)
	return &gatewayProcess{bin: buildGateway(t), env: env, addr: addr}
}

func (g *gatewayProcess) start(t *testing.T) {
	t.Helper()
	g.cmd = exec.Command(g.bin)
	g.cmd.Env = g.env
	g.cmd.Stderr = testkit.LogWriter(t)
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start httvps-gateway: %v", err)
	}
	g.done = make(chan struct{})
	cmd, done := g.cmd, g.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	testkit.Eventually(t, waitLong, "httvps-gateway listening on "+g.addr, func() bool {
		c, err := net.DialTimeout("tcp", g.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (g *gatewayProcess) kill(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		t.Fatal("httvps-gateway outlived SIGKILL")
	}
}

// gatewayRestart: SIGKILL a gateway process with a live session and start it again under the
// same gateway id; the old boot's session is closed as gateway_restarted and node-registry
// stops counting it, long before the gateway-lost sweep could (the new boot heartbeats).
func gatewayRestart(t *testing.T, s *system) {
	proc := newGatewayProcess(t, s, "gw-proc")
	proc.start(t)
	url := "wss://" + proc.addr + "/ws"
	user := s.subscriber(t, "restart")
	trickle := startTrickle(t)
	sess := s.mustDialURL(t, url, user)
	d := startDownload(t, sess, trickle.addr)
	d.grows(t, "bytes through the gateway process")
	id := sess.ID()
	testkit.Eventually(t, waitLong, "the session counted on its outline node", func() bool {
		var n int64
		return s.query(t, `SELECT COUNT(*) FROM outline_node_sessions WHERE session_id = ? AND ended_at IS NULL`, []any{id}, &n) && n == 1
	})
	testkit.Eventually(t, waitLong, "the session's usage stored", func() bool {
		row, ok := s.session(t, id)
		return ok && row.Down > 0 && !row.Ended
	})
	proc.kill(t)
	killed := time.Now()
	proc.start(t)
	testkit.Eventually(t, 30*time.Second, "the old boot's session ended as gateway_restarted", func() bool {
		row, ok := s.session(t, id)
		return ok && row.Ended && row.EndReason == schemas.EndReasonGatewayRestarted
	})
	testkit.Eventually(t, 30*time.Second, "node-registry no longer counting the session", func() bool {
		var n int64
		return s.query(t, `SELECT COUNT(*) FROM outline_node_sessions WHERE session_id = ? AND ended_at IS NULL`, []any{id}, &n) && n == 0
	})
	t.Logf("old boot's session closed %s after SIGKILL", time.Since(killed))
	if _, err := s.dialURL(t, url, user); err != nil {
		t.Fatalf("a new session through the restarted gateway: %v", err)
	}
}
