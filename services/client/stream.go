package client

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/flow"
)

// Stream is one multiplexed stream to a target. It is a net.Conn with CloseWrite (half-close:
// the gateway then half-closes the connection to the target). Read returns io.EOF after the
// target's end of stream and the gateway's *GatewayError when the stream failed.
type Stream struct {
	s      *Session
	id     uint32
	target string
	recv   *flow.Window
	wmu    sync.Mutex

	mu         sync.Mutex
	chunks     []chunk
	buffered   int
	sendCredit int
	remoteFin  bool
	localFin   bool
	closed     bool
	gotData    bool
	opened     bool
	err        error
	readDL     time.Time
	writeDL    time.Time

	readable  chan struct{}
	writable  chan struct{}
	space     chan struct{}
	first     chan struct{}
	firstOnce sync.Once
	onAnswer  func(error)
	answered  sync.Once
}

func newStream(s *Session, id uint32, target string) *Stream {
	st := &Stream{
		s: s, id: id, target: target, sendCredit: s.limits.InitialWindow,
		readable: make(chan struct{}, 1), writable: make(chan struct{}, 1),
		space: make(chan struct{}, 1), first: make(chan struct{}),
	}
	if s.flow {
		st.recv = flow.NewWindow(s.window, s.cfg.MaxWindow, s.budget, time.Now())
	}
	return st
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (st *Stream) ID() uint32 { return st.id }

// Window is the stream's receive window with flow control (it grows while the stream is read
// fast), 0 without.
func (st *Stream) Window() int {
	if st.recv == nil {
		return 0
	}
	return st.recv.Size()
}

func (st *Stream) Target() string { return st.target }

func (st *Stream) markFirst() {
	st.firstOnce.Do(func() { close(st.first) })
	st.answer()
}

// OnAnswer calls fn once with what AwaitOpen returns, as soon as the gateway answered the
// stream_open (at once if it already has), on the session's reader goroutine: fn must not
// block for long. Only with stream_confirm; without it fn is never called.
func (st *Stream) OnAnswer(fn func(error)) {
	if !st.s.confirm {
		return
	}
	st.mu.Lock()
	st.onAnswer = fn
	st.mu.Unlock()
	st.answer()
}

// answer calls the OnAnswer function once the stream_open was answered.
func (st *Stream) answer() {
	select {
	case <-st.first:
	default:
		return
	}
	st.mu.Lock()
	fn := st.onAnswer
	result := st.openResult()
	st.mu.Unlock()
	if fn != nil {
		st.answered.Do(func() { fn(result) })
	}
}

// AwaitRefusal waits up to wait for a sign from the gateway about the stream and returns its
// refusal (*GatewayError or a session error) if the stream failed before any data arrived;
// nil when data or the target's end of stream arrived, or nothing came within wait.
func (st *Stream) AwaitRefusal(ctx context.Context, wait time.Duration) error {
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-st.first:
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil && !st.gotData {
		return st.err
	}
	return nil
}

// AwaitOpen waits for the gateway's answer to the stream_open: nil once it confirmed the
// stream (or data or the target's end arrived), the refusal (*GatewayError or a session error)
// otherwise. Without stream_confirm it falls back to AwaitRefusal with the configured
// ConnectWait.
func (st *Stream) AwaitOpen(ctx context.Context) error {
	if !st.s.confirm {
		return st.AwaitRefusal(ctx, st.s.connectWait())
	}
	select {
	case <-st.first:
	case <-ctx.Done():
		return ctx.Err()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.openResult()
}

// openResult is the answer to the stream_open once it came; the caller holds st.mu.
func (st *Stream) openResult() error {
	switch {
	case st.err != nil && !st.gotData && !st.opened:
		return st.err
	case st.closed:
		return ErrStreamClosed
	}
	return nil
}

func (st *Stream) onOpened() {
	st.mu.Lock()
	st.opened = true
	st.mu.Unlock()
	st.markFirst()
}

// Err is the stream's failure, nil while it is fine.
func (st *Stream) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

func (st *Stream) onData(c chunk) {
	st.mu.Lock()
	for !st.s.flow && st.buffered >= st.s.window && !st.closed && st.err == nil {
		st.mu.Unlock()
		<-st.space
		st.mu.Lock()
	}
	if st.closed || st.err != nil {
		st.mu.Unlock()
		c.release()
		return
	}
	st.chunks = append(st.chunks, c)
	st.buffered += len(c.data)
	st.gotData = true
	st.mu.Unlock()
	st.markFirst()
	signal(st.readable)
}

func (st *Stream) onCredit(n uint32) {
	st.mu.Lock()
	st.sendCredit += int(n)
	st.mu.Unlock()
	signal(st.writable)
}

func (st *Stream) onFin() {
	st.mu.Lock()
	st.remoteFin = true
	done := st.localFin
	st.mu.Unlock()
	st.markFirst()
	signal(st.readable)
	if done {
		st.s.forget(st)
	}
}

func (st *Stream) onFail(err error) {
	st.mu.Lock()
	if st.err == nil && !st.closed {
		st.err = err
	}
	st.mu.Unlock()
	st.markFirst()
	st.wake()
	st.s.forget(st)
}

func (st *Stream) wake() {
	signal(st.readable)
	signal(st.writable)
	signal(st.space)
}

// wait blocks until c is signalled or the deadline passes; false on the deadline.
func wait(c chan struct{}, deadline time.Time) bool {
	if deadline.IsZero() {
		<-c
		return true
	}
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return true
	case <-t.C:
		return false
	}
}

func (st *Stream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		st.mu.Lock()
		if len(st.chunks) > 0 {
			n := st.take(p)
			grant := 0
			if st.recv != nil && !st.remoteFin && st.err == nil {
				grant, _ = st.recv.Consumed(n, flow.Use{Buffered: st.buffered}, st.s.RTT(), time.Now())
			}
			st.mu.Unlock()
			signal(st.space)
			if grant > 0 {
				_ = st.s.sendWindow(st.id, grant)
			}
			return n, nil
		}
		switch {
		case st.closed:
			st.mu.Unlock()
			return 0, ErrStreamClosed
		case st.err != nil:
			err := st.err
			st.mu.Unlock()
			return 0, err
		case st.remoteFin:
			st.mu.Unlock()
			return 0, io.EOF
		}
		deadline := st.readDL
		st.mu.Unlock()
		if !wait(st.readable, deadline) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// take copies buffered data into p; the caller holds st.mu.
func (st *Stream) take(p []byte) int {
	n := 0
	for n < len(p) && len(st.chunks) > 0 {
		c := &st.chunks[0]
		k := copy(p[n:], c.data)
		n += k
		c.data = c.data[k:]
		if len(c.data) == 0 {
			c.release()
			st.chunks[0] = chunk{}
			st.chunks = st.chunks[1:]
		}
	}
	if len(st.chunks) == 0 {
		st.chunks = nil
	}
	st.buffered -= n
	return n
}

// relayBuffers hold what WriteTo and ReadFrom relay; pooled, as a SOCKS connection each
// needs two and most are short.
var relayBuffers = sync.Pool{New: func() any { b := make([]byte, relayBuffer); return &b }}

// WriteTo relays the stream into w until the target's end of stream, without an extra copy.
func (st *Stream) WriteTo(w io.Writer) (int64, error) { return copyPooled(w, st) }

// ReadFrom relays r into the stream until r's end (io.Copy's contract: nil at io.EOF).
func (st *Stream) ReadFrom(r io.Reader) (int64, error) { return copyPooled(st, r) }

// copyPooled copies src to dst through a pooled relay buffer until src's end; nil at io.EOF.
func copyPooled(dst io.Writer, src io.Reader) (int64, error) {
	var total int64
	pooled := relayBuffers.Get().(*[]byte)
	defer relayBuffers.Put(pooled)
	buf := *pooled
	for {
		n, err := src.Read(buf)
		if n > 0 {
			m, werr := dst.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (st *Stream) Write(p []byte) (int, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	total := 0
	for len(p) > 0 {
		st.mu.Lock()
		switch {
		case st.closed:
			st.mu.Unlock()
			return total, ErrStreamClosed
		case st.err != nil:
			err := st.err
			st.mu.Unlock()
			return total, err
		case st.localFin:
			st.mu.Unlock()
			return total, errors.New("httvps: write after CloseWrite")
		}
		n := min(len(p), st.s.chunk)
		if st.s.flow {
			if st.sendCredit <= 0 {
				deadline := st.writeDL
				st.mu.Unlock()
				if !wait(st.writable, deadline) {
					return total, os.ErrDeadlineExceeded
				}
				continue
			}
			n = min(n, st.sendCredit)
			st.sendCredit -= n
		}
		st.mu.Unlock()
		if err := st.s.sendData(st.id, p[:n]); err != nil {
			return total, err
		}
		total += n
		p = p[n:]
	}
	return total, nil
}

// CloseWrite ends the client's side: the gateway half-closes the connection to the target
// after the data written before.
func (st *Stream) CloseWrite() error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	switch {
	case st.closed:
		st.mu.Unlock()
		return ErrStreamClosed
	case st.err != nil:
		err := st.err
		st.mu.Unlock()
		return err
	case st.localFin:
		st.mu.Unlock()
		return nil
	}
	st.localFin = true
	done := st.remoteFin
	st.mu.Unlock()
	if done {
		st.s.forget(st)
	}
	return st.s.sendJSON(schemas.StreamClose{StreamID: st.id})
}

// Close ends the stream. A stream still running at the gateway is aborted there; one whose
// target already ended is closed gracefully.
func (st *Stream) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	failed, localFin, remoteFin := st.err != nil, st.localFin, st.remoteFin
	for _, c := range st.chunks {
		c.release()
	}
	st.chunks, st.buffered = nil, 0
	st.mu.Unlock()
	st.markFirst()
	st.wake()
	st.s.forget(st)
	switch {
	case failed || (localFin && remoteFin):
		return nil
	case remoteFin:
		return st.s.sendJSON(schemas.StreamClose{StreamID: st.id})
	default:
		return st.s.sendJSON(schemas.StreamClose{StreamID: st.id, Code: abortCode, Message: abortMessage})
	}
}

func (st *Stream) SetDeadline(t time.Time) error {
	st.mu.Lock()
	st.readDL, st.writeDL = t, t
	st.mu.Unlock()
	st.wake()
	return nil
}

func (st *Stream) SetReadDeadline(t time.Time) error {
	st.mu.Lock()
	st.readDL = t
	st.mu.Unlock()
	signal(st.readable)
	return nil
}

func (st *Stream) SetWriteDeadline(t time.Time) error {
	st.mu.Lock()
	st.writeDL = t
	st.mu.Unlock()
	signal(st.writable)
	return nil
}

func (st *Stream) LocalAddr() net.Addr  { return streamAddr(st.s.id) }
func (st *Stream) RemoteAddr() net.Addr { return streamAddr(st.target) }

type streamAddr string

func (a streamAddr) Network() string { return "httvps" }
func (a streamAddr) String() string  { return string(a) }

var _ net.Conn = (*Stream)(nil)
