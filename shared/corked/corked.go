// Package corked lets the one writer of a connection gather many small writes (the TLS
// records of several WebSocket messages) into one system call: Cork starts gathering, Uncork
// sends what was gathered. Uncorked, writes go straight through.
package corked

import (
	"net"
	"sync"
)

// flushAt is how much a corked connection gathers before it sends anyway.
const flushAt = 64 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+flushAt/4); return &b }}

// Conn is a connection that a writer may cork. Writes from others while it is corked join
// what is gathered, in order.
type Conn struct {
	net.Conn
	mu  sync.Mutex
	buf *[]byte
}

// Listener wraps every accepted connection in a Conn.
type Listener struct{ net.Listener }

func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

func (c *Conn) Cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		c.buf = buffers.Get().(*[]byte)
	}
}

func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= flushAt {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Uncork sends what was gathered; writes go straight through again.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	err := c.flush()
	*c.buf = (*c.buf)[:0]
	buffers.Put(c.buf)
	c.buf = nil
	return err
}

// flush sends what was gathered; c.mu is held.
func (c *Conn) flush() error {
	b := *c.buf
	*c.buf = b[:0]
	if len(b) == 0 {
		return nil
	}
	_, err := c.Conn.Write(b)
	return err
}

// Of finds the corkable connection under conn (through WebSocket, fasthttp's hijacked
// connection and TLS), nil if
// there is none.
func Of(conn any) *Conn {
	for range 5 {
		switch c := conn.(type) {
		case *Conn:
			return c
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		case interface{ UnsafeConn() net.Conn }:
			conn = c.UnsafeConn()
		default:
			return nil
		}
	}
	return nil
}
