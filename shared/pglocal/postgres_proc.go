package pglocal

import (
	"os/exec"
	"runtime"
	"sync"
)

// pgStart starts cmd on a goroutine locked to its OS thread: the kernel sends
// Pdeathsig when the thread that forked the child exits, not the process.
func pgStart(cmd *exec.Cmd) (<-chan struct{}, error) {
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}

// pgTail keeps the last bytes written to it, for error messages.
type pgTail struct {
	mu  sync.Mutex
	buf []byte
}

const pgTailSize = 4 << 10

func (t *pgTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - pgTailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *pgTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
