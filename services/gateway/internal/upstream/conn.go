package upstream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a Shadowsocks stream to an Outline node. CloseWrite half-closes the TCP connection
// under the cipher, which the node passes on to the target.
//
// Until the first byte comes back, Conn keeps what was written (up to the replay limit): if the
// node resets the connection before any reply, the stream moves to another node of the session
// and the kept bytes are written there again, so the caller sees no error.
type Conn struct {
	set    *NodeSet
	ctx    context.Context
	target netip.AddrPort

	cur     atomic.Pointer[nodeConn]
	held    atomic.Bool
	replied atomic.Bool
	closed  atomic.Bool

	mu      sync.Mutex
	limit   int
	kept    []byte
	keeping bool
	fin     bool
	replays int
}

const (
	maxReplays          = 1
	defaultFlushTimeout = 10 * time.Second
)

func newConn(set *NodeSet, ctx context.Context, nc *nodeConn, target netip.AddrPort, replayLimit int) *Conn {
	c := &Conn{set: set, ctx: ctx, target: target, limit: replayLimit, keeping: set != nil && replayLimit > 0, replays: maxReplays}
	c.cur.Store(nc)
	c.held.Store(true)
	return c
}

// Flush sends the stream's Shadowsocks header, held since the dial so that the stream could be
// confirmed first. Read, Write and CloseWrite flush first if it was not called.
func (c *Conn) Flush() error {
	if !c.held.Load() {
		return nil
	}
	c.mu.Lock()
	cur := c.cur.Load()
	var err error
	if c.held.Load() {
		err = cur.flush(c.dialTimeout())
		c.held.Store(false)
	}
	c.mu.Unlock()
	if err != nil && c.recover(cur, err) {
		return nil
	}
	return err
}

func (c *Conn) dialTimeout() time.Duration {
	if c.set == nil {
		return defaultFlushTimeout
	}
	return c.set.pool.cfg.DialTimeout
}

// NodeID is the node that carries the stream now.
func (c *Conn) NodeID() int64 { return c.cur.Load().node.ID }

func (c *Conn) Read(p []byte) (int, error) {
	if err := c.Flush(); err != nil {
		return 0, err
	}
	for {
		cur := c.cur.Load()
		n, err := cur.ss.Read(p)
		if n > 0 || err == nil {
			if n > 0 && !c.replied.Load() {
				c.markReplied()
			}
			return n, err
		}
		if c.replied.Load() || !c.recover(cur, err) {
			return 0, err
		}
	}
}

func (c *Conn) markReplied() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replied.Store(true)
	c.kept, c.keeping = nil, false
}

func (c *Conn) Write(p []byte) (int, error) {
	if err := c.Flush(); err != nil {
		return 0, err
	}
	if c.replied.Load() {
		return c.cur.Load().ss.Write(p)
	}
	c.mu.Lock()
	if c.keeping && !c.replied.Load() {
		if len(c.kept)+len(p) <= c.limit {
			c.kept = append(c.kept, p...)
		} else {
			c.kept, c.keeping = nil, false
		}
	}
	kept := c.keeping
	cur := c.cur.Load()
	c.mu.Unlock()
	n, err := cur.ss.Write(p)
	if err != nil && kept && c.recover(cur, err) {
		return len(p), nil
	}
	return n, err
}

// CloseWrite half-closes the stream; a replay on another node half-closes there too.
func (c *Conn) CloseWrite() error {
	if err := c.Flush(); err != nil {
		return err
	}
	c.mu.Lock()
	c.fin = true
	cur := c.cur.Load()
	c.mu.Unlock()
	err := cur.tcp.CloseWrite()
	if err != nil && c.recover(cur, err) {
		return nil
	}
	return err
}

func (c *Conn) Close() error {
	c.closed.Store(true)
	return c.cur.Load().tcp.Close()
}

// recover moves the stream to another node after old failed with err before any reply. It
// reports whether the stream goes on (also when another call already moved it).
func (c *Conn) recover(old *nodeConn, err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur.Load() != old {
		return true
	}
	if !resetByNode(err) || c.closed.Load() || !c.keeping || c.replays == 0 || c.replied.Load() {
		return false
	}
	c.replays--
	old.tcp.Close()
	next, derr := c.set.redial(c.ctx, old.node, c.target)
	if derr != nil {
		return false
	}
	if !c.replay(next) {
		next.tcp.Close()
		return false
	}
	c.cur.Store(next)
	if c.closed.Load() {
		next.tcp.Close()
		return false
	}
	return true
}

func (c *Conn) replay(next *nodeConn) bool {
	if next.flush(c.set.pool.cfg.DialTimeout) != nil {
		return false
	}
	if len(c.kept) > 0 {
		_ = next.tcp.SetWriteDeadline(time.Now().Add(c.set.pool.cfg.DialTimeout))
		if _, err := next.ss.Write(c.kept); err != nil {
			return false
		}
		_ = next.tcp.SetWriteDeadline(time.Time{})
	}
	return !c.fin || next.tcp.CloseWrite() == nil
}

func resetByNode(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (c *Conn) LocalAddr() net.Addr                { return c.cur.Load().tcp.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.cur.Load().tcp.RemoteAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.cur.Load().tcp.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.cur.Load().tcp.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.cur.Load().tcp.SetWriteDeadline(t) }
