package upstream

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/shadowsocks/go-shadowsocks2/core"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

// Node is an Outline node ready to carry streams.
type Node struct {
	ID     int64
	Addr   string
	cipher core.Cipher
}

func NewNode(a schemas.OutlineAssignment) (*Node, error) {
	if a.InternalIP == "" || a.SSPort <= 0 || a.SSPort > 65535 {
		return nil, fmt.Errorf("outline node %d: address %q port %d is not usable", a.NodeID, a.InternalIP, a.SSPort)
	}
	cipher, err := core.PickCipher(a.SSMethod, nil, a.SSPassword)
	if err != nil {
		return nil, fmt.Errorf("outline node %d: method %q: %w", a.NodeID, a.SSMethod, err)
	}
	return &Node{ID: a.NodeID, Addr: net.JoinHostPort(a.InternalIP, strconv.Itoa(a.SSPort)), cipher: cipher}, nil
}

// nodeDown is a failure to reach the node itself, as opposed to the target behind it.
type nodeDown struct{ err error }

func (e *nodeDown) Error() string { return e.err.Error() }

// Dial opens a Shadowsocks stream to target through the node.
func (n *Node) Dial(ctx context.Context, timeout time.Duration, target netip.AddrPort) (*Conn, error) {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return nil, &nodeDown{fmt.Errorf("dial outline node %d: %w", n.ID, err)}
	}
	tcp := raw.(*net.TCPConn)
	_ = tcp.SetNoDelay(true)
	ss := n.cipher.StreamConn(&bufferedTCP{TCPConn: tcp})
	addr := socks.ParseAddr(target.String())
	if addr == nil {
		tcp.Close()
		return nil, unreachable(metrics.DialTarget, "target %s cannot be put in SOCKS form", target)
	}
	_ = tcp.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := ss.Write(addr); err != nil {
		tcp.Close()
		return nil, &nodeDown{fmt.Errorf("outline node %d: send target: %w", n.ID, err)}
	}
	_ = tcp.SetWriteDeadline(time.Time{})
	return &Conn{Conn: ss, tcp: tcp}, nil
}
