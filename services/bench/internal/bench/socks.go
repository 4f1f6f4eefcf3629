package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// socksDial opens a new connection through a SOCKS5 proxy the way curl does: the greeting,
// its answer, the CONNECT, its reply; the caller then speaks first on the returned connection.
func socksDial(ctx context.Context, proxy, target string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("socks target %q: want an IPv4 address and port", target)
	}
	c, err := tcpDial(ctx, proxy)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if err := socksHandshake(c, ap); err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 via %s: %w", proxy, err)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

func socksHandshake(c net.Conn, target netip.AddrPort) error {
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var method [2]byte
	if _, err := io.ReadFull(c, method[:]); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if method[0] != 5 || method[1] != 0 {
		return fmt.Errorf("greeting answered % x", method)
	}
	ip := target.Addr().As4()
	req := append([]byte{5, 1, 0, 1}, ip[:]...)
	req = binary.BigEndian.AppendUint16(req, target.Port())
	if _, err := c.Write(req); err != nil {
		return err
	}
	var reply [10]byte
	if _, err := io.ReadFull(c, reply[:4]); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	if reply[1] != 0 {
		return fmt.Errorf("CONNECT refused with reply %d", reply[1])
	}
	rest := 6
	switch reply[3] {
	case 4:
		rest = 18
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return err
		}
		rest = int(n[0]) + 2
	}
	_, err := io.ReadFull(c, make([]byte, rest))
	return err
}
