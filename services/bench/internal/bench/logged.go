package bench

import (
	"bytes"
	"context"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/httvps/httvps/services/httvps/system"
)

// maxLog bounds the stderr a loggedProcess keeps.
const maxLog = 256 << 10

// loggedProcess is a child process whose stderr the benchmark reads, stopped with SIGTERM.
type loggedProcess struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer
}

// startLogged runs bin with args, keeps its stderr and waits until addr accepts TCP connections.
func startLogged(ctx context.Context, addr, bin string, args ...string) (*loggedProcess, error) {
	p := &loggedProcess{Addr: addr, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	if err := system.WaitListening(ctx, addr, p.done); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w: %s", bin, err, p.stderr())
	}
	return p, nil
}

func (p *loggedProcess) PID() int { return p.cmd.Process.Pid }

// Write keeps the first maxLog bytes of the child's stderr.
func (p *loggedProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := maxLog - p.log.Len(); room > 0 {
		p.log.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (p *loggedProcess) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitLogged polls the child's stderr for s, at most d.
func (p *loggedProcess) waitLogged(ctx context.Context, s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if strings.Contains(p.stderr(), s) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		pause.For(ctx, 50*time.Millisecond)
	}
}

// stop sends SIGTERM, and SIGKILL when the child has not exited within 10 s.
func (p *loggedProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
