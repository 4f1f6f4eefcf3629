package system

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"
)

const (
	SSMethod   = "chacha20-ietf-poly1305"
	SSPassword = "httvps-loopback-ss-secret"
	waitListen = 15 * time.Second
)

// Process is a child process (an Outline node, a peer tool) stopped by Stop.
type Process struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop kills the process and waits for it.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// StartProcess runs bin with args and waits until addr accepts TCP connections.
func StartProcess(ctx context.Context, addr, bin string, args ...string) (*Process, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found (deploy/scripts/deps.sh installs it): %w", bin, err)
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &Process{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := WaitListening(ctx, addr, p.done); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	return p, nil
}

// WaitListening polls until addr accepts TCP connections, at most 15s; exited closing first
// is an error.
func WaitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(waitListen)
	for {
		select {
		case <-exited:
			return errors.New("exited before listening on " + addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not listening on %s within %s", addr, waitListen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreeAddr is a TCP address on 127.0.0.1 that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// SSServer starts shadowsocks-libev's ss-server on 127.0.0.1 as an Outline node of region.
func SSServer(ctx context.Context, region string) (*Process, Node, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, Node{}, err
	}
	_, port, _ := net.SplitHostPort(addr)
	p, err := StartProcess(ctx, addr, "ss-server", "-s", "127.0.0.1", "-p", port, "-k", SSPassword, "-m", SSMethod, "-t", "60", "--no-delay", "-u")
	if err != nil {
		return nil, Node{}, err
	}
	n, _ := strconv.Atoi(port)
	return p, Node{Region: region, IP: "127.0.0.1", Port: n, Method: SSMethod, Password: SSPassword}, nil
}
