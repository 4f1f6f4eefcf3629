package testenv

import (
	"fmt"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/outlinenode"
	"github.com/httvps/httvps/shared/testkit"
)

const (
	Method   = "chacha20-ietf-poly1305"
	Password = "test-outline-secret"
)

// SSServer starts shadowsocks-libev's ss-server as its own process on 127.0.0.1 and returns
// the node to assign. The process is killed in Cleanup.
func SSServer(tb testing.TB, nodeID int64, region string) schemas.OutlineAssignment {
	tb.Helper()
	return StartSSProcess(tb, nodeID, region).Node
}

// OutlineServer runs the service package of outline-ss-server in-process on 127.0.0.1, with a
// target dialer that admits loopback (its default refuses it).
func OutlineServer(tb testing.TB, nodeID int64, region string) schemas.OutlineAssignment {
	tb.Helper()
	n, err := outlinenode.Start(outlinenode.Config{Addr: "127.0.0.1:0", Method: Method, Password: Password, KeyID: fmt.Sprintf("node-%d", nodeID)})
	if err != nil {
		tb.Fatalf("outline node: %v", err)
	}
	tb.Cleanup(func() { _ = n.Close() })
	return node(nodeID, region, n.Addr().Port)
}

// DeadNode is a node whose port nothing listens on.
func DeadNode(tb testing.TB, nodeID int64, region string) schemas.OutlineAssignment {
	return node(nodeID, region, testkit.FreePort(tb))
}

func node(id int64, region string, port int) schemas.OutlineAssignment {
	return schemas.OutlineAssignment{NodeID: id, Region: region, InternalIP: "127.0.0.1", SSPort: port, SSMethod: Method, SSPassword: Password}
}
