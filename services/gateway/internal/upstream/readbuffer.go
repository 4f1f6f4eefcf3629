package upstream

import (
	"net"
	"sync"
	"syscall"
)

// readBufferSize holds about two Shadowsocks AEAD chunks, so the cipher's two reads per chunk
// (length, then payload) cost about one system call.
const readBufferSize = 32 << 10

var readBuffers = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// bufferedTCP reads through a buffer taken from a pool only while it holds unread bytes: a
// read that must wait waits with the caller's buffer, then what already arrived is taken
// without waiting. An idle or stalled stream holds no buffer. Read belongs to one goroutine.
// While holding, writes are gathered until release sends them in one system call.
type bufferedTCP struct {
	*net.TCPConn
	buf     *[]byte
	r, w    int
	holding bool
	held    []byte
}

func (c *bufferedTCP) Write(p []byte) (int, error) {
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.TCPConn.Write(p)
}

// release sends what was held; writes go straight through from then on.
func (c *bufferedTCP) release() error {
	held := c.held
	c.holding, c.held = false, nil
	if len(held) == 0 {
		return nil
	}
	_, err := c.TCPConn.Write(held)
	return err
}

func (c *bufferedTCP) Read(p []byte) (int, error) {
	if c.buf == nil {
		n, err := c.TCPConn.Read(p)
		if err == nil && n == len(p) && n < readBufferSize {
			c.fill()
		}
		return n, err
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w {
		readBuffers.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}

// fill takes into a pooled buffer what the socket holds now, without waiting for more.
func (c *bufferedTCP) fill() {
	rc, err := c.TCPConn.SyscallConn()
	if err != nil {
		return
	}
	buf := readBuffers.Get().(*[]byte)
	n := 0
	_ = rc.Read(func(fd uintptr) bool {
		n, _ = syscall.Read(int(fd), *buf)
		return true
	})
	if n <= 0 {
		readBuffers.Put(buf)
		return
	}
	c.buf, c.r, c.w = buf, 0, n
}
