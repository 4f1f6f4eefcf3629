package testenv

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
)

// ResetNode is a node that accepts connections, reads what the gateway sends and resets the
// connection without a reply, like a Shadowsocks server killed under its open connections.
func ResetNode(tb testing.TB, nodeID int64, region string) schemas.OutlineAssignment {
	t := serve(tb, func(c *net.TCPConn) {
		buf := make([]byte, 64<<10)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		_ = c.SetLinger(0)
	})
	_, port, _ := net.SplitHostPort(t.Addr)
	p, _ := strconv.Atoi(port)
	return node(nodeID, region, p)
}

// SSProcess is an ss-server process that a test can kill and start again on the same port.
type SSProcess struct {
	tb       testing.TB
	Node     schemas.OutlineAssignment
	password string
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartSSProcess runs ss-server on a free port of 127.0.0.1 with the test password.
func StartSSProcess(tb testing.TB, nodeID int64, region string) *SSProcess {
	return StartSSProcessWith(tb, nodeID, region, Password)
}

// StartSSProcessWith runs ss-server with the given password; the node it returns carries the
// test password, so a different one here makes a node the gateway cannot authenticate to.
func StartSSProcessWith(tb testing.TB, nodeID int64, region, password string) *SSProcess {
	tb.Helper()
	p := &SSProcess{tb: tb, Node: node(nodeID, region, testkit.FreePort(tb)), password: password}
	p.Start()
	tb.Cleanup(p.Kill)
	return p
}

func (p *SSProcess) Addr() string {
	return net.JoinHostPort(p.Node.InternalIP, strconv.Itoa(p.Node.SSPort))
}

// Start runs the process (again) and waits until it accepts connections.
func (p *SSProcess) Start() {
	p.tb.Helper()
	bin, err := exec.LookPath("ss-server")
	if err != nil {
		p.tb.Fatalf("ss-server not found (apt-get install shadowsocks-libev): %v", err)
	}
	p.cmd = exec.Command(bin, "-s", p.Node.InternalIP, "-p", strconv.Itoa(p.Node.SSPort), "-k", p.password, "-m", Method, "-t", "30")
	if err := p.cmd.Start(); err != nil {
		p.tb.Fatalf("start ss-server: %v", err)
	}
	done := make(chan struct{})
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(done)
	}(p.cmd)
	p.done = done
	testkit.Eventually(p.tb, 10*time.Second, "ss-server listening on "+p.Addr(), func() bool {
		select {
		case <-done:
			p.tb.Fatalf("ss-server exited early")
		default:
		}
		c, err := net.DialTimeout("tcp", p.Addr(), 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// Kill ends the process and waits for it; its port refuses connections afterwards.
func (p *SSProcess) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}
