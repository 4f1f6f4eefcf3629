package bench

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/client/internal/stack"
	"github.com/shadowsocks/go-shadowsocks2/core"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

const dialTimeout = 10 * time.Second

// Path is one way from the benchmark to the target.
type Path struct {
	Name  string
	Note  string
	Open  func(ctx context.Context) (net.Conn, error)
	Close func()
	// Procs are the processes that carry the path's bytes (the benchmark process includes
	// the target and, for HTTVPS, the client).
	Procs []proc
}

func tcpDial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetNoDelay(true)
	return c, nil
}

func directPath(target string) Path {
	return Path{
		Name: "direct TCP", Note: "benchmark → target",
		Open:  func(ctx context.Context) (net.Conn, error) { return tcpDial(ctx, target) },
		Close: func() {},
	}
}

// shadowsocksPath is one Shadowsocks hop with go-shadowsocks2 as the client, the gateway's
// own library.
func shadowsocksPath(node stack.Node, target string) (Path, error) {
	cipher, err := core.PickCipher(node.Method, nil, node.Password)
	if err != nil {
		return Path{Name: "Shadowsocks"}, fmt.Errorf("shadowsocks cipher: %w", err)
	}
	addr := socks.ParseAddr(target)
	server := net.JoinHostPort(node.IP, strconv.Itoa(node.Port))
	return Path{
		Name: "Shadowsocks", Note: "go-shadowsocks2 client → ss-server → target",
		Open: func(ctx context.Context) (net.Conn, error) {
			c, err := tcpDial(ctx, server)
			if err != nil {
				return nil, err
			}
			ss := cipher.StreamConn(c)
			if _, err := ss.Write(addr); err != nil {
				c.Close()
				return nil, err
			}
			return ss, nil
		},
		Close: func() {},
	}, nil
}

// httvpsPath is one client session (all streams multiplexed on it) through the gateway.
func httvpsPath(ctx context.Context, name string, cfg client.Config, target string) (Path, error) {
	s, err := client.Dial(ctx, cfg)
	if err != nil {
		return Path{Name: name}, fmt.Errorf("%s: %w", name, err)
	}
	frames := "JSON frames"
	if s.Binary() {
		frames = "binary frames"
	}
	l := s.Limits()
	note := fmt.Sprintf("client API → gateway (%s, flow_control %v, stream window %d KiB, max frame %d KiB) → ss-server → target",
		frames, s.FlowControl(), l.InitialWindow>>10, l.MaxFrameSize>>10)
	return Path{
		Name: name, Note: note,
		Open:  func(ctx context.Context) (net.Conn, error) { return s.OpenStream(ctx, target) },
		Close: func() { _ = s.Close() },
	}, nil
}

// chiselPath dials the chisel client's local port: chisel client → TLS WebSocket (SSH inside)
// → chisel server → ss-tunnel → ss-server → target.
func chiselPath(local string, stop func(), procs ...proc) Path {
	return Path{
		Name: "chisel", Note: "chisel client → chisel server (TLS WebSocket, SSH inside) → ss-tunnel → ss-server → target",
		Open:  func(ctx context.Context) (net.Conn, error) { return tcpDial(ctx, local) },
		Close: stop, Procs: procs,
	}
}
