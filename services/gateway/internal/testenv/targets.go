package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/httvps/httvps/shared/udpecho"
	"io"
	"net"
	"sync"
	"testing"
)

// Target is a TCP server on 127.0.0.1 that handles each connection with a function.
type Target struct {
	Addr string
	ln   net.Listener
	wg   sync.WaitGroup
}

func serve(tb testing.TB, handle func(*net.TCPConn)) *Target {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("target listen: %v", err)
	}
	t := &Target{Addr: ln.Addr().String(), ln: ln}
	var conns sync.Map
	t.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, struct{}{})
			t.wg.Go(func() {
				defer conns.Delete(c)
				defer c.Close()
				handle(c.(*net.TCPConn))
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool {
			k.(net.Conn).Close()
			return true
		})
		t.wg.Wait()
	})
	return t
}

// EchoTarget writes back everything it reads and half-closes when the client does.
func EchoTarget(tb testing.TB) *Target {
	return serve(tb, func(c *net.TCPConn) {
		_, _ = io.Copy(c, c)
		_ = c.CloseWrite()
	})
}

// DigestTarget reads until the client half-closes, then answers "<bytes> <sha256>" and closes:
// it proves a half-close travelled through the whole chain.
func DigestTarget(tb testing.TB) *Target {
	return serve(tb, func(c *net.TCPConn) {
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err != nil {
			return
		}
		_, _ = fmt.Fprintf(c, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
	})
}

// Digest is what DigestTarget answers for data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:]))
}

// SilentTarget accepts connections and never reads from them, with a small receive buffer.
func SilentTarget(tb testing.TB) *Target {
	done := make(chan struct{})
	t := serve(tb, func(c *net.TCPConn) {
		_ = c.SetReadBuffer(4 << 10)
		<-done
	})
	tb.Cleanup(func() { close(done) })
	return t
}

// ClosedAddr is an address on 127.0.0.1 where nothing listens.
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// SourceTarget sends size bytes of pattern as soon as a client connects, then closes.
func SourceTarget(tb testing.TB, size int) *Target {
	return serve(tb, func(c *net.TCPConn) {
		_, _ = io.CopyN(c, Pattern(), int64(size))
	})
}

// Pattern is an endless reader of a fixed byte sequence.
func Pattern() io.Reader { return &pattern{} }

type pattern struct{ n byte }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.n
		p.n = p.n*31 + 7
	}
	return len(b), nil
}

// UDPEcho is a UDP server on 127.0.0.1 that sends every datagram back; it returns its address.
func UDPEcho(tb testing.TB) string {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("udp echo listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		udpecho.Serve(pc, nil)
	}()
	tb.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String()
}
