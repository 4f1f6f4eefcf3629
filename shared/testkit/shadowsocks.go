package testkit

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// SSServer is shadowsocks-libev's ss-server run as its own process on 127.0.0.1, which a test
// can kill and start again on the same port.
type SSServer struct {
	tb       testing.TB
	Port     int
	method   string
	password string
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartSSServer runs ss-server on a free port; it is killed in Cleanup.
func StartSSServer(tb testing.TB, method, password string) *SSServer {
	tb.Helper()
	s := &SSServer{tb: tb, Port: FreePort(tb), method: method, password: password}
	s.Start()
	tb.Cleanup(s.Kill)
	return s
}

func (s *SSServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Start runs the process (again) and waits until it accepts connections.
func (s *SSServer) Start() {
	s.tb.Helper()
	bin, err := exec.LookPath("ss-server")
	if err != nil {
		s.tb.Fatalf("ss-server not found (apt-get install shadowsocks-libev): %v", err)
	}
	s.cmd = exec.Command(bin, "-s", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-k", s.password, "-m", s.method, "-t", "30", "-u")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start ss-server: %v", err)
	}
	done := make(chan struct{})
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd)
	s.done = done
	Eventually(s.tb, 10*time.Second, "ss-server listening on "+s.Addr(), func() bool {
		select {
		case <-done:
			s.tb.Fatalf("ss-server exited early")
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// Kill ends the process and waits for it; its port refuses connections afterwards.
func (s *SSServer) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}
