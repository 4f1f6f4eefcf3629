package upstream

import (
	"fmt"
	"net"
)

// ListenPacket opens a Shadowsocks UDP socket towards the node: what is written to the
// returned address must start with the target in SOCKS form, and what is read starts with
// the source in SOCKS form. The socket is connected to the node, so the kernel routes once and
// delivers only the node's datagrams.
func (n *Node) ListenPacket() (net.PacketConn, net.Addr, error) {
	addr, err := net.ResolveUDPAddr("udp", n.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("outline node %d: udp address %s: %w", n.ID, n.Addr, err)
	}
	c, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return nil, nil, fmt.Errorf("outline node %d: udp socket: %w", n.ID, err)
	}
	return n.cipher.PacketConn(connectedPacket{c}), addr, nil
}

// connectedPacket is a UDP socket connected to its one peer, used as a PacketConn: every write
// goes to the peer, whatever address it names.
type connectedPacket struct{ *net.UDPConn }

func (c connectedPacket) WriteTo(b []byte, _ net.Addr) (int, error) { return c.Write(b) }
