package client

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client/internal/socks5"
	"github.com/rs/zerolog"
)

// refusingOpener fails every stream with err and records the targets it was asked for.
type refusingOpener struct {
	err     error
	mu      sync.Mutex
	targets []string
}

func (o *refusingOpener) OpenStream(_ context.Context, target string) (*Stream, error) {
	o.mu.Lock()
	o.targets = append(o.targets, target)
	o.mu.Unlock()
	return nil, o.err
}

func startSOCKS(t *testing.T, opener Opener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &SOCKSServer{Opener: opener, Log: zerolog.Nop(), HandshakeTimeout: 2 * time.Second, OpenTimeout: time.Second}
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// exchange sends raw bytes to the SOCKS server and returns everything it answers until it
// closes the connection.
func exchange(t *testing.T, addr string, send []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(send); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		var ne net.Error
		if !errors.As(err, &ne) || ne.Timeout() {
			t.Fatalf("read answer: %v", err)
		}
	}
	return got
}

func connectRequest(host []byte, atyp byte, port uint16) []byte {
	b := []byte{5, 1, 0, 5, 1, 0, atyp}
	if atyp == socks5.AtypDomain {
		b = append(b, byte(len(host)))
	}
	b = append(b, host...)
	return append(b, byte(port>>8), byte(port))
}

func TestSOCKSRefusalReplies(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want socks5.Reply
	}{
		{name: "target forbidden", err: &GatewayError{Code: schemas.CodeTargetForbidden, Stream: true}, want: socks5.NotAllowed},
		{name: "upstream unreachable", err: &GatewayError{Code: schemas.CodeUpstreamUnreachable, Stream: true}, want: socks5.HostUnreachable},
		{name: "stream limit", err: &GatewayError{Code: schemas.CodeLimitReached, Limit: schemas.LimitStreams, Stream: true}, want: socks5.GeneralFailure},
		{name: "no session in time", err: context.DeadlineExceeded, want: socks5.NetworkUnreachable},
		{name: "session lost", err: &sessionEnded{cause: errors.New("connection reset")}, want: socks5.NetworkUnreachable},
		{name: "device revoked", err: &sessionEnded{cause: &GatewayError{Code: schemas.CodeDeviceRevoked}}, want: socks5.NotAllowed},
		{name: "anything else", err: errors.New("boom"), want: socks5.GeneralFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := &refusingOpener{err: tt.err}
			addr := startSOCKS(t, opener)
			got := exchange(t, addr, connectRequest([]byte("example.com"), socks5.AtypDomain, 443))
			want := []byte{5, 0, 5, byte(tt.want), 0, 1, 0, 0, 0, 0, 0, 0}
			if string(got) != string(want) {
				t.Fatalf("answer % x, want % x", got, want)
			}
			if len(opener.targets) != 1 || opener.targets[0] != "example.com:443" {
				t.Fatalf("opened %v, want the unresolved name example.com:443", opener.targets)
			}
		})
	}
}

func TestSOCKSBadRequestsNeverReachTheGateway(t *testing.T) {
	tests := []struct {
		name string
		send []byte
		want []byte
	}{
		{name: "socks4", send: []byte{4, 1, 0, 80, 1, 2, 3, 4, 0}, want: []byte{0, 0x5B, 0, 0, 0, 0, 0, 0}},
		{name: "auth required", send: []byte{5, 1, 2}, want: []byte{5, 0xFF}},
		{name: "bind", send: []byte{5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80}, want: []byte{5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "udp associate", send: []byte{5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0}, want: []byte{5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "bad address type", send: []byte{5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80}, want: []byte{5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "request version 4", send: []byte{5, 1, 0, 4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, want: []byte{5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "port zero", send: []byte{5, 1, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 0}, want: []byte{5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0}},
		{name: "not socks at all", send: []byte("GET / HTTP/1.1\r\n\r\n"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := &refusingOpener{err: errors.New("must not be called")}
			addr := startSOCKS(t, opener)
			got := exchange(t, addr, tt.send)
			if string(got) != string(tt.want) {
				t.Fatalf("answer % x, want % x", got, tt.want)
			}
			if len(opener.targets) != 0 {
				t.Fatalf("opened %v", opener.targets)
			}
		})
	}
}

func TestSOCKSPassesAddressesAsSent(t *testing.T) {
	tests := []struct {
		name string
		req  []byte
		want string
	}{
		{name: "ipv4", req: connectRequest([]byte{10, 1, 2, 3}, socks5.AtypIPv4, 22), want: "10.1.2.3:22"},
		{name: "ipv6", req: connectRequest(net.ParseIP("2001:db8::7"), socks5.AtypIPv6, 443), want: "[2001:db8::7]:443"},
		{name: "domain", req: connectRequest([]byte("files.example.org"), socks5.AtypDomain, 80), want: "files.example.org:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := &refusingOpener{err: &GatewayError{Code: schemas.CodeTargetForbidden}}
			exchange(t, startSOCKS(t, opener), tt.req)
			if len(opener.targets) != 1 || opener.targets[0] != tt.want {
				t.Fatalf("opened %v, want %s", opener.targets, tt.want)
			}
		})
	}
}
