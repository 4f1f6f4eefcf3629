package bench

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/httvps/system"
)

const dialTimeout = 10 * time.Second

// Path is one way from the benchmark's SOCKS5 client (or its TCP dialer) to the target.
type Path struct {
	Name  string
	Note  string
	Open  func(ctx context.Context) (net.Conn, error)
	Close func()
	// Procs are the processes that carry the path's bytes; the benchmark process holds the
	// SOCKS5 client and the target. Tunnel names those whose CPU a gigabyte costs the tunnel.
	Procs  []proc
	Tunnel []string
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

func directPath(target string, self proc) Path {
	return Path{
		Name: nameDirect, Note: "benchmark → target (no proxy)",
		Open:  func(ctx context.Context) (net.Conn, error) { return tcpDial(ctx, target) },
		Close: func() {}, Procs: []proc{self},
	}
}

// socksPath opens every connection through the SOCKS5 proxy at socks.
func socksPath(name, note, socks, target string, procs []proc, tunnel []string, stop func()) Path {
	return Path{
		Name: name, Note: note,
		Open:  func(ctx context.Context) (net.Conn, error) { return socksDial(ctx, socks, target) },
		Close: stop, Procs: procs, Tunnel: tunnel,
	}
}

// processes names the child processes of a path for CPU accounting.
func processes(names []string, ps ...*system.Process) []proc {
	out := make([]proc, len(ps))
	for i, p := range ps {
		out[i] = proc{Name: names[i], PID: p.PID()}
	}
	return out
}

// apiPath is the Go client API inside the benchmark process: one session, a stream per
// connection, no SOCKS5 (the in-process rows of earlier runs).
func apiPath(ctx context.Context, cfg client.Config, target string, procs []proc) (Path, error) {
	s, err := client.Dial(ctx, cfg)
	if err != nil {
		return Path{Name: nameAPI}, fmt.Errorf("%s: %w", nameAPI, err)
	}
	l := s.Limits()
	note := fmt.Sprintf("client API in the benchmark process → gateway (binary %v, flow_control %v, stream window %d KiB) → ss-server → target",
		s.Binary(), s.FlowControl(), l.InitialWindow>>10)
	return Path{
		Name: nameAPI, Note: note,
		Open:  func(ctx context.Context) (net.Conn, error) { return s.OpenStream(ctx, target) },
		Close: func() { _ = s.Close() }, Procs: procs, Tunnel: []string{nameGateway},
	}, nil
}
