package bench

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
)

const patternSize = 256 << 10

// Target is the TCP server at the end of every path. A client sends an 8-byte big-endian
// count; the target answers that many bytes (0: until the client leaves), then closes.
type Target struct {
	Addr    string
	ln      net.Listener
	pattern []byte
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
}

func StartTarget() (*Target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	t := &Target{Addr: ln.Addr().String(), ln: ln, pattern: make([]byte, patternSize), conns: map[net.Conn]struct{}{}}
	_, _ = rand.Read(t.pattern)
	t.wg.Go(t.accept)
	return t, nil
}

func (t *Target) accept() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.mu.Lock()
		t.conns[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Go(func() {
			t.serve(c)
			t.mu.Lock()
			delete(t.conns, c)
			t.mu.Unlock()
			c.Close()
		})
	}
}

func (t *Target) serve(c net.Conn) {
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return
	}
	remaining := binary.BigEndian.Uint64(head[:])
	unlimited := remaining == 0
	for unlimited || remaining > 0 {
		chunk := t.pattern
		if !unlimited && remaining < uint64(len(chunk)) {
			chunk = chunk[:remaining]
		}
		n, err := c.Write(chunk)
		remaining -= uint64(n)
		if err != nil {
			return
		}
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, c)
}

// Stop closes the listener and every connection.
func (t *Target) Stop() {
	t.ln.Close()
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// request asks the target for n bytes (0: without end).
func request(w io.Writer, n uint64) error {
	var head [8]byte
	binary.BigEndian.PutUint64(head[:], n)
	_, err := w.Write(head[:])
	return err
}
