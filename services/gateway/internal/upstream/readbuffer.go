package upstream

import (
	"net"
	"sync"
)

// readBufferSize holds about two Shadowsocks AEAD chunks, so the cipher's two reads per chunk
// (length, then payload) cost about one system call.
const readBufferSize = 32 << 10

var readBuffers = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// bufferedTCP reads through a buffer taken from a pool only while it holds unread bytes, so an
// idle stream keeps none. Read belongs to one goroutine.
type bufferedTCP struct {
	*net.TCPConn
	buf  *[]byte
	r, w int
}

func (c *bufferedTCP) Read(p []byte) (int, error) {
	if c.buf == nil {
		if len(p) >= readBufferSize {
			return c.TCPConn.Read(p)
		}
		buf := readBuffers.Get().(*[]byte)
		n, err := c.TCPConn.Read(*buf)
		if n == 0 {
			readBuffers.Put(buf)
			return 0, err
		}
		c.buf, c.r, c.w = buf, 0, n
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w {
		readBuffers.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}
