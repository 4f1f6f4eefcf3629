package socks5

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/httvps/httvps/schemas/wire"
)

// UDPHeaderMax is the longest header of a SOCKS5 UDP request: RSV, FRAG, a name and a port.
const UDPHeaderMax = 2 + 1 + 1 + 1 + 255 + 2

// ParseUDP reads a SOCKS5 UDP request (RFC 1928 section 7): the target "host:port" and the
// data, which aliases pkt. Fragments (FRAG other than 0) are refused, as the RFC allows.
func ParseUDP(pkt []byte) (target string, data []byte, err error) {
	if len(pkt) < 4 {
		return "", nil, errors.New("socks5: udp request shorter than its header")
	}
	if pkt[2] != 0 {
		return "", nil, errors.New("socks5: udp fragments are not supported")
	}
	target, data, err = wire.SplitSOCKSAddr(pkt[3:])
	if err != nil {
		return "", nil, fmt.Errorf("socks5: udp request: %w", err)
	}
	return target, data, nil
}

// AppendUDP appends a SOCKS5 UDP reply header for source and the data.
func AppendUDP(dst []byte, source netip.AddrPort, data []byte) []byte {
	dst, _ = wire.AppendSOCKSAddr(append(dst, 0, 0, 0), source.String())
	return append(dst, data...)
}
