package socks5

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
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
	rest := pkt[4:]
	var host string
	switch pkt[3] {
	case AtypIPv4, AtypIPv6:
		n := 4
		if pkt[3] == AtypIPv6 {
			n = 16
		}
		if len(rest) < n+2 {
			return "", nil, errors.New("socks5: udp request address cut short")
		}
		a, _ := netip.AddrFromSlice(rest[:n])
		host, rest = a.Unmap().String(), rest[n:]
	case AtypDomain:
		if len(rest) < 1 || rest[0] == 0 || len(rest) < 1+int(rest[0])+2 {
			return "", nil, errors.New("socks5: udp request name empty or cut short")
		}
		host, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	default:
		return "", nil, errors.New("socks5: udp request address type not supported")
	}
	port := binary.BigEndian.Uint16(rest)
	if port == 0 {
		return "", nil, errors.New("socks5: udp request to port 0")
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), rest[2:], nil
}

// AppendUDP appends a SOCKS5 UDP reply header for source (an IP and port) and the data.
func AppendUDP(dst []byte, source netip.AddrPort, data []byte) []byte {
	dst = append(dst, 0, 0, 0)
	if a := source.Addr().Unmap(); a.Is4() {
		dst = append(append(dst, AtypIPv4), a.AsSlice()...)
	} else {
		dst = append(append(dst, AtypIPv6), a.AsSlice()...)
	}
	dst = binary.BigEndian.AppendUint16(dst, source.Port())
	return append(dst, data...)
}
