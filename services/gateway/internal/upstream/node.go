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

func (e *nodeDown) Unwrap() error { return e.err }

// nodeConn is one Shadowsocks connection to a node. Its header (salt and target) is held
// back until flush, so the stream can be confirmed as soon as the node took the connection.
type nodeConn struct {
	node *Node
	ss   net.Conn
	tcp  *net.TCPConn
	raw  *bufferedTCP
}

// dial opens a Shadowsocks connection to target through the node. A *nodeDown error means the
// node itself could not be reached.
func (n *Node) dial(ctx context.Context, timeout time.Duration, target netip.AddrPort) (*nodeConn, error) {
	tcp, err := n.connect(ctx, timeout)
	if err != nil {
		return nil, err
	}
	nc, err := n.open(tcp, target)
	if err != nil {
		tcp.Close()
		return nil, err
	}
	return nc, nil
}

// connect opens a TCP connection to the node.
func (n *Node) connect(ctx context.Context, timeout time.Duration) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return nil, &nodeDown{fmt.Errorf("dial outline node %d: %w", n.ID, err)}
	}
	tcp := raw.(*net.TCPConn)
	_ = tcp.SetNoDelay(true)
	return tcp, nil
}

// open starts the Shadowsocks stream to target on a connection to the node; the header waits
// for flush.
func (n *Node) open(tcp *net.TCPConn, target netip.AddrPort) (*nodeConn, error) {
	addr := socks.ParseAddr(target.String())
	if addr == nil {
		return nil, unreachable(metrics.DialTarget, "target %s cannot be put in SOCKS form", target)
	}
	raw := &bufferedTCP{TCPConn: tcp, holding: true}
	ss := n.cipher.StreamConn(raw)
	if _, err := ss.Write(addr); err != nil {
		return nil, &nodeDown{fmt.Errorf("outline node %d: send target: %w", n.ID, err)}
	}
	return &nodeConn{node: n, ss: ss, tcp: tcp, raw: raw}, nil
}

// flush sends the held header in one segment.
func (nc *nodeConn) flush(timeout time.Duration) error {
	if !nc.raw.holding {
		return nil
	}
	_ = nc.tcp.SetWriteDeadline(time.Now().Add(timeout))
	err := nc.raw.release()
	_ = nc.tcp.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("outline node %d: send target: %w", nc.node.ID, err)
	}
	return nil
}
