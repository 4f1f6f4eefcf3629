// Package socks5 reads SOCKS5 (RFC 1928) greetings, CONNECT and UDP ASSOCIATE requests and
// UDP datagram headers, and writes replies.
package socks5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
)

const (
	Version  = 0x05
	version4 = 0x04

	MethodNoAuth       = 0x00
	MethodNoAcceptable = 0xFF

	CmdConnect      = 0x01
	CmdBind         = 0x02
	CmdUDPAssociate = 0x03

	AtypIPv4   = 0x01
	AtypDomain = 0x03
	AtypIPv6   = 0x04

	socks4Rejected = 0x5B
)

// Reply is the REP field of a reply.
type Reply byte

const (
	Succeeded           Reply = 0x00
	GeneralFailure      Reply = 0x01
	NotAllowed          Reply = 0x02
	NetworkUnreachable  Reply = 0x03
	HostUnreachable     Reply = 0x04
	ConnectionRefused   Reply = 0x05
	TTLExpired          Reply = 0x06
	CommandNotSupported Reply = 0x07
	AddressNotSupported Reply = 0x08
)

func (r Reply) String() string {
	switch r {
	case Succeeded:
		return "succeeded"
	case GeneralFailure:
		return "general failure"
	case NotAllowed:
		return "connection not allowed"
	case NetworkUnreachable:
		return "network unreachable"
	case HostUnreachable:
		return "host unreachable"
	case ConnectionRefused:
		return "connection refused"
	case TTLExpired:
		return "TTL expired"
	case CommandNotSupported:
		return "command not supported"
	case AddressNotSupported:
		return "address type not supported"
	}
	return fmt.Sprintf("reply 0x%02x", byte(r))
}

// Error is a greeting or request the server refuses. When Replied is false the caller answers
// with WriteReply(Reply); when true the answer (or none, for a stranger) was already written.
type Error struct {
	Reply   Reply
	Replied bool
	Message string
}

func (e *Error) Error() string { return "socks5: " + e.Message }

// Request is a CONNECT request: Target is "host:port" with the host as sent (domain names
// unresolved, IPv6 in brackets).
type Request struct {
	Command byte
	Atyp    byte
	Host    string
	Port    uint16
}

func (r Request) Target() string { return net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port))) }

// Negotiate reads the greeting and selects "no authentication". A SOCKS4 client gets a SOCKS4
// rejection, any other version nothing.
func Negotiate(rw io.ReadWriter) error {
	var head [2]byte
	if _, err := io.ReadFull(rw, head[:]); err != nil {
		return fmt.Errorf("socks5: read greeting: %w", err)
	}
	switch head[0] {
	case Version:
	case version4:
		_, _ = rw.Write([]byte{0x00, socks4Rejected, 0, 0, 0, 0, 0, 0})
		return &Error{Reply: GeneralFailure, Replied: true, Message: "SOCKS4 is not supported, use SOCKS5"}
	default:
		return &Error{Reply: GeneralFailure, Replied: true, Message: fmt.Sprintf("version 0x%02x is not SOCKS5", head[0])}
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(rw, methods); err != nil {
		return fmt.Errorf("socks5: read methods: %w", err)
	}
	if !slices.Contains(methods, MethodNoAuth) {
		_, _ = rw.Write([]byte{Version, MethodNoAcceptable})
		return &Error{Reply: GeneralFailure, Replied: true, Message: "the client offers no method without authentication"}
	}
	if _, err := rw.Write([]byte{Version, MethodNoAuth}); err != nil {
		return fmt.Errorf("socks5: write method: %w", err)
	}
	return nil
}

// ReadRequest reads a request. A request the server cannot serve comes back as *Error with
// the reply to send; a read failure as a plain error.
func ReadRequest(r io.Reader) (Request, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Request{}, fmt.Errorf("socks5: read request: %w", err)
	}
	if head[0] != Version {
		return Request{}, &Error{Reply: GeneralFailure, Message: fmt.Sprintf("request version 0x%02x is not SOCKS5", head[0])}
	}
	req := Request{Command: head[1], Atyp: head[3]}
	host, err := readHost(r, req.Atyp)
	if err != nil {
		return Request{}, err
	}
	var port [2]byte
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return Request{}, fmt.Errorf("socks5: read port: %w", err)
	}
	req.Host, req.Port = host, binary.BigEndian.Uint16(port[:])
	switch {
	case req.Command == CmdUDPAssociate:
		return req, nil
	case req.Command != CmdConnect:
		return req, &Error{Reply: CommandNotSupported, Message: fmt.Sprintf("command 0x%02x is not supported, only CONNECT and UDP ASSOCIATE", req.Command)}
	case req.Port == 0:
		return req, &Error{Reply: HostUnreachable, Message: "port 0"}
	}
	return req, nil
}

func readHost(r io.Reader, atyp byte) (string, error) {
	switch atyp {
	case AtypIPv4:
		var a [4]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return "", fmt.Errorf("socks5: read address: %w", err)
		}
		return netip.AddrFrom4(a).String(), nil
	case AtypIPv6:
		var a [16]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return "", fmt.Errorf("socks5: read address: %w", err)
		}
		return netip.AddrFrom16(a).String(), nil
	case AtypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return "", fmt.Errorf("socks5: read name length: %w", err)
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(r, name); err != nil {
			return "", fmt.Errorf("socks5: read name: %w", err)
		}
		if n[0] == 0 || slices.Contains(name, 0) {
			return "", &Error{Reply: HostUnreachable, Message: "empty or malformed domain name"}
		}
		return string(name), nil
	}
	return "", &Error{Reply: AddressNotSupported, Message: fmt.Sprintf("address type 0x%02x is not supported", atyp)}
}

// WriteReply writes a reply with bind, or 0.0.0.0:0 when bind is not valid.
func WriteReply(w io.Writer, rep Reply, bind netip.AddrPort) error {
	if !bind.IsValid() {
		bind = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	b := []byte{Version, byte(rep), 0}
	if a := bind.Addr().Unmap(); a.Is4() {
		b = append(b, AtypIPv4)
		b = append(b, a.AsSlice()...)
	} else {
		b = append(b, AtypIPv6)
		b = append(b, a.AsSlice()...)
	}
	b = binary.BigEndian.AppendUint16(b, bind.Port())
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("socks5: write reply: %w", err)
	}
	return nil
}

// AsError finds the *Error in err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
