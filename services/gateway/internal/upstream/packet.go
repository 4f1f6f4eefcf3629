package upstream

import (
	"fmt"
	"net"
)

// ListenPacket opens a Shadowsocks UDP socket towards the node: what is written to the
// returned address must start with the target in SOCKS form, and what is read starts with
// the source in SOCKS form.
func (n *Node) ListenPacket() (net.PacketConn, net.Addr, error) {
	addr, err := net.ResolveUDPAddr("udp", n.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("outline node %d: udp address %s: %w", n.ID, n.Addr, err)
	}
	pc, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("outline node %d: udp socket: %w", n.ID, err)
	}
	return n.cipher.PacketConn(pc), addr, nil
}
