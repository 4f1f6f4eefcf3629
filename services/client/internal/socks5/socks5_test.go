package socks5

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/httvps/httvps/schemas"
)

type rw struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (r *rw) Read(p []byte) (int, error)  { return r.in.Read(p) }
func (r *rw) Write(p []byte) (int, error) { return r.out.Write(p) }

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		out     []byte
		refused bool
		ioErr   bool
	}{
		{name: "no auth offered alone", in: []byte{5, 1, 0}, out: []byte{5, 0}},
		{name: "no auth among others", in: []byte{5, 3, 2, 1, 0}, out: []byte{5, 0}},
		{name: "only username/password", in: []byte{5, 1, 2}, out: []byte{5, 0xFF}, refused: true},
		{name: "no methods at all", in: []byte{5, 0}, out: []byte{5, 0xFF}, refused: true},
		{name: "socks4 gets a socks4 rejection", in: []byte{4, 1, 0, 80, 1, 2, 3, 4, 0}, out: []byte{0, 0x5B, 0, 0, 0, 0, 0, 0}, refused: true},
		{name: "http on the socks port gets nothing", in: []byte("GET / HTTP/1.1\r\n"), out: nil, refused: true},
		{name: "truncated methods", in: []byte{5, 2, 0}, ioErr: true},
		{name: "empty", in: nil, ioErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &rw{in: bytes.NewReader(tt.in)}
			err := Negotiate(c)
			if !bytes.Equal(c.out.Bytes(), tt.out) {
				t.Errorf("wrote % x, want % x", c.out.Bytes(), tt.out)
			}
			se, isSOCKS := AsError(err)
			switch {
			case tt.refused && (!isSOCKS || !se.Replied):
				t.Errorf("err = %v, want a refusal already answered", err)
			case tt.ioErr && (err == nil || isSOCKS):
				t.Errorf("err = %v, want a read error", err)
			case !tt.refused && !tt.ioErr && err != nil:
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		target string
		reply  Reply
		ioErr  bool
	}{
		{name: "ipv4", in: []byte{5, 1, 0, 1, 93, 184, 216, 34, 0, 80}, target: "93.184.216.34:80"},
		{name: "ipv6", in: append(append([]byte{5, 1, 0, 4}, netip.MustParseAddr("2001:db8::1").AsSlice()...), 1, 187), target: "[2001:db8::1]:443"},
		{name: "domain stays unresolved", in: append(append([]byte{5, 1, 0, 3, 11}, "example.com"...), 0x1F, 0x90), target: "example.com:8080"},
		{name: "wrong version", in: []byte{4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, reply: GeneralFailure},
		{name: "bind", in: []byte{5, 2, 0, 1, 1, 2, 3, 4, 0, 80}, reply: CommandNotSupported},
		{name: "udp associate", in: []byte{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}, target: "0.0.0.0:0"},
		{name: "unknown command", in: []byte{5, 9, 0, 1, 1, 2, 3, 4, 0, 80}, reply: CommandNotSupported},
		{name: "unknown address type", in: []byte{5, 1, 0, 7, 1, 2, 3, 4, 0, 80}, reply: AddressNotSupported},
		{name: "empty domain", in: []byte{5, 1, 0, 3, 0, 0, 80}, reply: HostUnreachable},
		{name: "domain with NUL", in: []byte{5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80}, reply: HostUnreachable},
		{name: "port zero", in: []byte{5, 1, 0, 1, 1, 2, 3, 4, 0, 0}, reply: HostUnreachable},
		{name: "truncated address", in: []byte{5, 1, 0, 1, 1, 2}, ioErr: true},
		{name: "truncated port", in: []byte{5, 1, 0, 1, 1, 2, 3, 4, 0}, ioErr: true},
		{name: "truncated domain", in: []byte{5, 1, 0, 3, 9, 'a', 'b'}, ioErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ReadRequest(bytes.NewReader(tt.in))
			se, isSOCKS := AsError(err)
			switch {
			case tt.ioErr:
				if err == nil || isSOCKS {
					t.Fatalf("err = %v, want a read error", err)
				}
			case tt.reply != Succeeded:
				if !isSOCKS || se.Reply != tt.reply || se.Replied {
					t.Fatalf("err = %v, want reply %s still to send", err, tt.reply)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if req.Target() != tt.target {
					t.Fatalf("target %q, want %q", req.Target(), tt.target)
				}
			}
		})
	}
}

func TestWriteReply(t *testing.T) {
	tests := []struct {
		name string
		rep  Reply
		bind netip.AddrPort
		want []byte
	}{
		{name: "success without bind", rep: Succeeded, want: []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "refused ipv4 bind", rep: ConnectionRefused, bind: netip.MustParseAddrPort("127.0.0.1:1080"), want: []byte{5, 5, 0, 1, 127, 0, 0, 1, 4, 56}},
		{name: "ipv6 bind", rep: Succeeded, bind: netip.MustParseAddrPort("[::1]:80"),
			want: append(append([]byte{5, 0, 0, 4}, netip.IPv6Loopback().AsSlice()...), 0, 80)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteReply(&b, tt.rep, tt.bind); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), tt.want) {
				t.Fatalf("% x, want % x", b.Bytes(), tt.want)
			}
		})
	}
}

func TestWriteReplyFailure(t *testing.T) {
	if err := WriteReply(failWriter{}, Succeeded, netip.AddrPort{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("err = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestReplyFor(t *testing.T) {
	tests := []struct {
		code    schemas.ErrorCode
		message string
		want    Reply
	}{
		{schemas.CodeTargetForbidden, "", NotAllowed},
		{schemas.CodeUpstreamUnreachable, "cannot resolve nowhere.invalid", HostUnreachable},
		{schemas.CodeUpstreamUnreachable, "dial tcp: connection refused", ConnectionRefused},
		{schemas.CodeLimitReached, "a session may have 1 open streams", GeneralFailure},
		{schemas.CodeProtocolError, "", GeneralFailure},
		{schemas.CodeNoCapacity, "", NetworkUnreachable},
		{schemas.CodeBackendUnavailable, "", NetworkUnreachable},
		{schemas.CodeGatewayShutdown, "", NetworkUnreachable},
		{schemas.CodeInvalidToken, "", NotAllowed},
		{schemas.CodeDeviceRevoked, "", NotAllowed},
		{"SOMETHING_NEW", "", GeneralFailure},
	}
	for _, tt := range tests {
		t.Run(string(tt.code)+"/"+tt.message, func(t *testing.T) {
			if got := ReplyFor(tt.code, tt.message); got != tt.want {
				t.Fatalf("%s, want %s", got, tt.want)
			}
		})
	}
}
