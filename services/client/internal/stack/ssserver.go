package stack

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
	SSPassword = "httvps-client-stack-ss-secret"
)

// Process is a child process killed by Stop.
type Process struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// PID is the process id.
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
		return nil, fmt.Errorf("%s not found (apt-get install shadowsocks-libev): %w", bin, err)
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
	if err := waitListening(ctx, addr, p.done); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	return p, nil
}

func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
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
			return fmt.Errorf("not listening on %s within %s", addr, readyTimeout)
		}
		time.Sleep(pollEvery)
	}
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// SSServer starts shadowsocks-libev's ss-server on 127.0.0.1 as the Outline node.
func SSServer(ctx context.Context) (*Process, Node, error) {
	port, err := FreePort()
	if err != nil {
		return nil, Node{}, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := StartProcess(ctx, addr, "ss-server", "-s", "127.0.0.1", "-p", strconv.Itoa(port),
		"-k", SSPassword, "-m", SSMethod, "-t", "60", "--no-delay", "-u")
	if err != nil {
		return nil, Node{}, err
	}
	return p, Node{IP: "127.0.0.1", Port: port, Method: SSMethod, Password: SSPassword, MaxSessions: 100000}, nil
}

// SSTunnel starts shadowsocks-libev's ss-tunnel: a local port forwarded to target through the
// ss-server node.
func SSTunnel(ctx context.Context, node Node, target string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return StartProcess(ctx, addr, "ss-tunnel", "-s", node.IP, "-p", strconv.Itoa(node.Port), "-b", "127.0.0.1",
		"-l", strconv.Itoa(port), "-k", node.Password, "-m", node.Method, "-L", target, "-t", "60", "--no-delay")
}
