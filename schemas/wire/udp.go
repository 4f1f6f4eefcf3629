package wire

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"

	"github.com/httvps/httvps/schemas"
)

// BinaryUDPData is the type byte of a binary udp_data message: type, flow id, the address in
// SOCKS form (RFC 1928: 0x01 IPv4, 0x03 name, 0x04 IPv6, then the port), raw payload.
const BinaryUDPData BinaryType = 0x03

const (
	atypIPv4   = 0x01
	atypDomain = 0x03
	atypIPv6   = 0x04
	// MaxUDPAddr is the longest address of a udp_data frame: a 255-byte name and a port.
	MaxUDPAddr = 255 + len(":65535")
	// UDPDataJSONOverhead bounds the bytes of a JSON udp_data frame besides its base64 payload.
	UDPDataJSONOverhead = len(`{"type":"udp_data","flow_id":4294967295,"addr":"","payload":""}`) + 2*MaxUDPAddr
)

// MaxDatagramPayload is the largest datagram whose udp_data frame, with any address, fits
// in frameSize bytes in JSON (the binary form is smaller).
func MaxDatagramPayload(frameSize int) int {
	return (frameSize - UDPDataJSONOverhead) / 4 * 3
}

func decodeUDPData(msg []byte) (any, error) {
	f, err := decodeInto[schemas.UDPData](msg)
	if err != nil {
		return nil, err
	}
	if f.FlowID == 0 {
		return nil, protocolError("udp_data has no flow_id (flow ids start at 1)")
	}
	if _, err := splitUDPAddr(f.Addr); err != nil {
		return nil, err
	}
	if f.Payload == nil {
		f.Payload = []byte{}
	}
	return f, nil
}

func decodeUDPClose(msg []byte) (any, error) {
	f, err := decodeInto[schemas.UDPClose](msg)
	if err != nil {
		return nil, err
	}
	if f.FlowID == 0 {
		return nil, protocolError("udp_close has no flow_id (flow ids start at 1)")
	}
	return f, nil
}

type udpAddr struct {
	ip   netip.Addr
	host string
	port uint16
}

func splitUDPAddr(addr string) (udpAddr, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || host == "" || len(host) > 255 {
		return udpAddr{}, protocolError("udp_data addr %q is not host:port", truncate(addr))
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return udpAddr{}, protocolError("udp_data addr %q needs a port from 1 to 65535", truncate(addr))
	}
	a := udpAddr{host: host, port: uint16(port)}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
		a.ip = ip.Unmap()
	} else if !hostName(host) {
		return udpAddr{}, protocolError("udp_data addr %q: a name has only letters, digits, '-', '.' and '_' (send IDNs in punycode)", truncate(addr))
	}
	return a, nil
}

// hostName reports whether name has only the bytes of a DNS host name: ASCII letters and
// digits, '-', '.' and '_'.
func hostName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// AppendBinaryUDPData appends a binary udp_data message. addr must be host:port.
func AppendBinaryUDPData(dst []byte, flowID uint32, addr string, payload []byte) ([]byte, error) {
	a, err := AppendSOCKSAddr(nil, addr)
	if err != nil {
		return dst, err
	}
	dst = appendBinaryHeader(dst, BinaryUDPData, flowID)
	return append(append(dst, a...), payload...), nil
}

// AppendSOCKSAddr appends host:port in SOCKS5 form (RFC 1928): atyp, address, port.
func AppendSOCKSAddr(dst []byte, addr string) ([]byte, error) {
	a, err := splitUDPAddr(addr)
	if err != nil {
		return dst, err
	}
	switch {
	case a.ip.Is4():
		dst = append(append(dst, atypIPv4), a.ip.AsSlice()...)
	case a.ip.IsValid():
		dst = append(append(dst, atypIPv6), a.ip.AsSlice()...)
	default:
		dst = append(append(dst, atypDomain, byte(len(a.host))), a.host...)
	}
	return binary.BigEndian.AppendUint16(dst, a.port), nil
}

// SplitSOCKSAddr reads a SOCKS5-form address at the start of b: host:port and what follows.
func SplitSOCKSAddr(b []byte) (addr string, rest []byte, err error) {
	if len(b) < 1 {
		return "", nil, protocolError("address missing")
	}
	var host string
	rest = b[1:]
	switch b[0] {
	case atypIPv4, atypIPv6:
		n := 4
		if b[0] == atypIPv6 {
			n = 16
		}
		if len(rest) < n+2 {
			return "", nil, protocolError("address cut short")
		}
		ip, _ := netip.AddrFromSlice(rest[:n])
		host, rest = ip.Unmap().String(), rest[n:]
	case atypDomain:
		if len(rest) < 1 || int(rest[0]) == 0 || len(rest) < 1+int(rest[0])+2 {
			return "", nil, protocolError("name empty or cut short")
		}
		host, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
		if !hostName(host) {
			return "", nil, protocolError("name has a byte other than letters, digits, '-', '.' and '_' (send IDNs in punycode)")
		}
	default:
		return "", nil, protocolError("address type 0x%02x unknown", b[0])
	}
	port := binary.BigEndian.Uint16(rest)
	if port == 0 {
		return "", nil, protocolError("port 0")
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), rest[2:], nil
}

// decodeBinaryUDPData reads the body after the header; the payload aliases body.
func decodeBinaryUDPData(id uint32, body []byte) (any, error) {
	if len(body) < 1 {
		return nil, protocolError("binary udp_data has no address")
	}
	addr, payload, err := SplitSOCKSAddr(body)
	if err != nil {
		err.(*Error).Message = "binary udp_data: " + err.(*Error).Message
		return nil, err
	}
	return schemas.UDPData{Type: schemas.FrameUDPData, FlowID: id, Addr: addr, Payload: payload}, nil
}
