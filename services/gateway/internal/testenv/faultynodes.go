package testenv

import (
	"net"
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
	*testkit.SSServer
	Node schemas.OutlineAssignment
}

// StartSSProcess runs ss-server on a free port of 127.0.0.1 with the test password.
func StartSSProcess(tb testing.TB, nodeID int64, region string) *SSProcess {
	tb.Helper()
	s := testkit.StartSSServer(tb, Method, Password)
	return &SSProcess{SSServer: s, Node: node(nodeID, region, s.Port)}
}
