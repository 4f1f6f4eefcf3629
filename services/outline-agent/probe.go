package outlineagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/shadowsocks/go-shadowsocks2/core"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

// prober opens a Shadowsocks connection through the node to the probe target and waits for
// the target's first bytes: the node, its key and its way out all work.
type prober struct {
	nodeAddr string
	cipher   core.StreamConnCipher
	target   string
	kind     string
	timeout  time.Duration
}

func newProber(cfg Config) (*prober, error) {
	cipher, err := core.PickCipher(cfg.NodeMethod, nil, cfg.NodePassword)
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", cfg.NodeMethod, err)
	}
	return &prober{nodeAddr: cfg.NodeAddr, cipher: cipher, target: cfg.ProbeTarget, kind: cfg.ProbeKind, timeout: cfg.ProbeTimeout}, nil
}

// probe returns how long the probe took, or why it failed in words an operator can act on.
func (p *prober) probe(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := p.throughNode(ctx)
	if err == nil {
		return time.Since(start), nil
	}
	var silent *noReply
	if !errors.As(err, &silent) {
		return 0, err
	}
	if derr := p.direct(ctx); derr != nil {
		return 0, fmt.Errorf("%w; the probe target does not answer directly either (%v): check %s", err, derr, EnvProbeTarget)
	}
	return 0, fmt.Errorf("%w, although the probe target answers directly: check the node's method and password (%s, %s)", err, EnvNodeMethod, EnvNodePassword)
}

// noReply is a node that took the connection but relayed nothing back.
type noReply struct{ msg string }

func (e *noReply) Error() string { return e.msg }

func (p *prober) throughNode(ctx context.Context) error {
	addr := socks.ParseAddr(p.target)
	if addr == nil {
		return fmt.Errorf("probe target %q cannot be put in SOCKS form", p.target)
	}
	d := net.Dialer{Timeout: p.timeout}
	raw, err := d.DialContext(ctx, "tcp", p.nodeAddr)
	if err != nil {
		return fmt.Errorf("cannot connect to the node at %s: %w", p.nodeAddr, err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(p.timeout))
	conn := p.cipher.StreamConn(raw)
	if _, err := conn.Write(append(addr, p.request()...)); err != nil {
		return fmt.Errorf("the node at %s took the connection but failed on write: %w", p.nodeAddr, err)
	}
	return p.awaitReply(conn, "through the node")
}

func (p *prober) direct(ctx context.Context) error {
	d := net.Dialer{Timeout: p.timeout}
	conn, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(p.timeout))
	if req := p.request(); len(req) > 0 {
		if _, err := conn.Write(req); err != nil {
			return err
		}
	}
	return p.awaitReply(conn, "directly")
}

func (p *prober) awaitReply(conn net.Conn, how string) error {
	var b [1]byte
	_, err := conn.Read(b[:])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &noReply{fmt.Sprintf("no reply %s within %s", how, p.timeout)}
	case errors.Is(err, io.EOF):
		return &noReply{fmt.Sprintf("the connection %s closed without a reply", how)}
	default:
		return &noReply{fmt.Sprintf("the connection %s failed before a reply: %v", how, err)}
	}
}

func (p *prober) request() []byte {
	if p.kind == ProbeBanner {
		return nil
	}
	host, _, _ := net.SplitHostPort(p.target)
	return []byte("HEAD / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: httvps-outline-agent\r\nConnection: close\r\n\r\n")
}
