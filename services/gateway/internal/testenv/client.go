package testenv

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

// Dial opens a WebSocket to the gateway, trusting its self-signed certificate.
func Dial(tb testing.TB, g *Gateway) *websocket.Conn {
	tb.Helper()
	return DialHeader(tb, g, nil)
}

// DialHeader is Dial with extra headers on the upgrade request.
func DialHeader(tb testing.TB, g *Gateway, header http.Header) *websocket.Conn {
	tb.Helper()
	pem, err := os.ReadFile(g.Svc.CertFile())
	if err != nil {
		tb.Fatalf("read gateway certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(g.URL(), header)
	if err != nil {
		tb.Fatalf("dial %s: %v", g.URL(), err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// ReadFrame reads one frame from a raw connection within timeout.
func ReadFrame(tb testing.TB, conn *websocket.Conn, timeout time.Duration) (any, error) {
	tb.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	kind, msg, err := conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if kind == websocket.BinaryMessage {
		return wire.DecodeBinary(msg)
	}
	return wire.DecodeText(msg)
}

// SendJSON writes a frame value as a JSON text message.
func SendJSON(tb testing.TB, conn *websocket.Conn, frame any) {
	tb.Helper()
	msg, err := wire.AppendJSON(nil, frame)
	if err != nil {
		tb.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		tb.Fatalf("send %T: %v", frame, err)
	}
}

// Client speaks HTTVPS to the gateway: it demultiplexes streams, answers pings and, with
// flow control, grants credit as the test consumes data.
type Client struct {
	tb      testing.TB
	conn    *websocket.Conn
	HelloOK schemas.HelloOK
	binary  bool
	flow    bool
	maxData int
	wmu     sync.Mutex
	noPong  atomic.Bool
	mu      sync.Mutex
	streams map[uint32]*Stream
	nextID  uint32
	errs    chan schemas.ErrorFrame
	udp     chan any
	done    chan struct{}
	readErr error
}

// Connect dials and says hello; it returns the client on hello_ok or the error frame.
func Connect(tb testing.TB, g *Gateway, hello schemas.Hello) (*Client, *schemas.ErrorFrame) {
	tb.Helper()
	conn := Dial(tb, g)
	SendJSON(tb, conn, hello)
	frame, err := ReadFrame(tb, conn, 10*time.Second)
	if err != nil {
		tb.Fatalf("read hello answer: %v", err)
	}
	switch f := frame.(type) {
	case schemas.ErrorFrame:
		return nil, &f
	case schemas.HelloOK:
		c := &Client{tb: tb, conn: conn, HelloOK: f, streams: map[uint32]*Stream{},
			errs: make(chan schemas.ErrorFrame, 64), udp: make(chan any, 1024), done: make(chan struct{})}
		c.binary = slices.Contains(f.Features, schemas.FeatureBinary)
		c.flow = slices.Contains(f.Features, schemas.FeatureFlowControl)
		c.maxData = min(wire.MaxStreamDataPayload(f.Limits.MaxFrameSize, c.binary), 16<<10)
		go c.readLoop()
		tb.Cleanup(c.Close)
		return c, nil
	default:
		tb.Fatalf("answer to hello is %#v", frame)
		return nil, nil
	}
}

func (c *Client) Close() { c.conn.Close() }

// StopPongs makes the client ignore the gateway's pings.
func (c *Client) StopPongs() { c.noPong.Store(true) }

// Errors delivers error frames that are not about an open stream, and session errors.
func (c *Client) Errors() <-chan schemas.ErrorFrame { return c.errs }

// UDP delivers the udp_data and udp_close frames from the gateway.
func (c *Client) UDP() <-chan any { return c.udp }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Send writes a raw frame value as JSON.
func (c *Client) Send(frame any) error {
	msg, err := wire.AppendJSON(nil, frame)
	if err != nil {
		return err
	}
	return c.write(websocket.TextMessage, msg)
}

// SendRaw writes a message as it is.
func (c *Client) SendRaw(kind int, msg []byte) error { return c.write(kind, msg) }

func (c *Client) write(kind int, msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(kind, msg)
}

// NextError waits for an error frame outside the open streams.
func (c *Client) NextError(timeout time.Duration) (schemas.ErrorFrame, error) {
	select {
	case e := <-c.errs:
		return e, nil
	case <-time.After(timeout):
		return schemas.ErrorFrame{}, fmt.Errorf("no error frame within %s", timeout)
	}
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		kind, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.readErr = err
			c.mu.Lock()
			for _, st := range c.streams {
				st.finish("", errors.New("connection closed"))
			}
			c.mu.Unlock()
			return
		}
		var frame any
		if kind == websocket.BinaryMessage {
			frame, err = wire.DecodeBinary(msg)
		} else {
			frame, err = wire.DecodeText(msg)
		}
		if err != nil {
			c.tb.Errorf("client: gateway sent an undecodable frame %q: %v", msg, err)
			return
		}
		c.dispatch(frame)
	}
}

func (c *Client) dispatch(frame any) {
	switch f := frame.(type) {
	case schemas.Ping:
		if !c.noPong.Load() {
			go func() { _ = c.Send(schemas.Pong{ID: f.ID}) }()
		}
	case schemas.StreamData:
		if st := c.stream(f.StreamID); st != nil {
			st.receive(f.Payload)
		}
	case schemas.StreamWindow:
		if st := c.stream(f.StreamID); st != nil {
			st.grant(int(f.Credit))
		}
	case schemas.StreamOK:
		if st := c.stream(f.StreamID); st != nil {
			st.confirm()
		} else {
			c.tb.Errorf("client: stream_ok for stream %d, which it did not open", f.StreamID)
		}
	case schemas.StreamClose:
		if st := c.stream(f.StreamID); st != nil {
			st.finish(f.Code, nil)
		}
	case schemas.UDPData, schemas.UDPClose:
		select {
		case c.udp <- f:
		default:
			c.tb.Errorf("client: UDP frame %T not read by the test", f)
		}
	case schemas.ErrorFrame:
		if f.StreamID != nil {
			if st := c.stream(*f.StreamID); st != nil {
				st.fault(f)
				return
			}
		}
		c.errs <- f
	}
}

func (c *Client) stream(id uint32) *Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// Open sends stream_open for target on the next stream id.
func (c *Client) Open(target string) *Stream {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	st := newStream(c, id)
	c.streams[id] = st
	c.mu.Unlock()
	if err := c.Send(schemas.StreamOpen{StreamID: id, Target: target}); err != nil {
		c.tb.Errorf("open stream %d: %v", id, err)
	}
	return st
}

// OpenID sends stream_open with a chosen id, tracking it.
func (c *Client) OpenID(id uint32, target string) *Stream {
	c.mu.Lock()
	st := newStream(c, id)
	c.streams[id] = st
	c.mu.Unlock()
	_ = c.Send(schemas.StreamOpen{StreamID: id, Target: target})
	return st
}

// Stream is the client's end of one stream.
type Stream struct {
	c      *Client
	ID     uint32
	mu     sync.Mutex
	cond   *sync.Cond
	in     bytes.Buffer
	credit int
	closed bool
	code   schemas.ErrorCode
	err    error
	fault_ *schemas.ErrorFrame
	// opened is set by stream_ok; early counts the bytes that came before it.
	opened bool
	oks    int
	early  int
	peak   int
}

func newStream(c *Client, id uint32) *Stream {
	st := &Stream{c: c, ID: id}
	if c.HelloOK.Limits != nil {
		st.credit = c.HelloOK.Limits.InitialWindow
	}
	st.cond = sync.NewCond(&st.mu)
	return st
}

func (st *Stream) receive(p []byte) {
	st.mu.Lock()
	if !st.opened {
		st.early += len(p)
	}
	st.in.Write(p)
	st.mu.Unlock()
	st.cond.Broadcast()
}

func (st *Stream) confirm() {
	st.mu.Lock()
	st.opened = true
	st.oks++
	st.mu.Unlock()
	st.cond.Broadcast()
}

// Confirmation is what the stream saw of stream_ok: how many came, and the bytes of
// stream_data that came before the first.
func (st *Stream) Confirmation() (oks, early int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.oks, st.early
}

// WaitOpened waits for stream_ok; it fails when the stream closes first.
func (st *Stream) WaitOpened(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, st.cond.Broadcast)
	defer timer.Stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	for !st.opened {
		switch {
		case st.closed:
			return fmt.Errorf("stream %d closed (code %q) before stream_ok", st.ID, st.code)
		case time.Now().After(deadline):
			return fmt.Errorf("no stream_ok for stream %d within %s", st.ID, timeout)
		}
		st.cond.Wait()
	}
	return nil
}

func (st *Stream) grant(n int) {
	st.mu.Lock()
	st.credit += n
	st.peak = max(st.peak, st.credit)
	st.mu.Unlock()
	st.cond.Broadcast()
}

func (st *Stream) finish(code schemas.ErrorCode, err error) {
	st.mu.Lock()
	if !st.closed {
		st.closed, st.code, st.err = true, code, err
	}
	st.mu.Unlock()
	st.cond.Broadcast()
}

func (st *Stream) fault(f schemas.ErrorFrame) {
	st.mu.Lock()
	st.fault_ = &f
	st.closed, st.code = true, f.Code
	st.mu.Unlock()
	st.cond.Broadcast()
}

// Write sends p in frames, waiting for credit when flow control is on.
func (st *Stream) Write(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), st.c.maxData)
		if st.c.flow {
			var err error
			if n, err = st.waitCredit(n); err != nil {
				return err
			}
		}
		var err error
		if st.c.binary {
			err = st.c.write(websocket.BinaryMessage, wire.AppendBinaryStreamData(nil, st.ID, p[:n]))
		} else {
			err = st.c.write(websocket.TextMessage, wire.AppendStreamDataJSON(nil, st.ID, p[:n]))
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (st *Stream) waitCredit(want int) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.credit <= 0 {
		if st.closed {
			return 0, fmt.Errorf("stream %d closed (%s) while waiting for credit", st.ID, st.code)
		}
		st.cond.Wait()
	}
	n := min(want, st.credit)
	st.credit -= n
	return n, nil
}

// CloseWrite sends stream_close: the client will send no more.
func (st *Stream) CloseWrite() error { return st.c.Send(schemas.StreamClose{StreamID: st.ID}) }

// Abort sends stream_close with a code.
func (st *Stream) Abort(code schemas.ErrorCode) error {
	return st.c.Send(schemas.StreamClose{StreamID: st.ID, Code: code})
}

// ReadN takes n received bytes within timeout, granting their credit back as they arrive.
func (st *Stream) ReadN(n int, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, st.cond.Broadcast)
	defer timer.Stop()
	out := make([]byte, 0, n)
	for len(out) < n {
		st.mu.Lock()
		for st.in.Len() == 0 && !st.closed && time.Now().Before(deadline) {
			st.cond.Wait()
		}
		took := min(st.in.Len(), n-len(out))
		out = append(out, st.in.Next(took)...)
		closed, code := st.closed, st.code
		st.mu.Unlock()
		st.grantBack(took)
		switch {
		case len(out) == n:
		case took == 0 && closed:
			return out, fmt.Errorf("stream %d closed (code %q) after %d of %d bytes", st.ID, code, len(out), n)
		case took == 0:
			return out, fmt.Errorf("stream %d: %d of %d bytes within %s", st.ID, len(out), n, timeout)
		}
	}
	return out, nil
}

// ReadToClose takes everything until the gateway closes the stream.
func (st *Stream) ReadToClose(timeout time.Duration) ([]byte, schemas.ErrorCode, error) {
	code, err := st.WaitClosed(timeout)
	if err != nil {
		return nil, code, err
	}
	st.mu.Lock()
	out := append([]byte(nil), st.in.Bytes()...)
	st.in.Reset()
	st.mu.Unlock()
	return out, code, nil
}

func (st *Stream) grantBack(n int) {
	if st.c.flow && n > 0 {
		if st.c.binary {
			_ = st.c.write(websocket.BinaryMessage, wire.AppendBinaryStreamWindow(nil, st.ID, uint32(n)))
		} else {
			_ = st.c.Send(schemas.StreamWindow{StreamID: st.ID, Credit: uint32(n)})
		}
	}
}

// Credit is the credit the client holds for sending on the stream, and the most it held at
// once: the stream's largest window.
func (st *Stream) Credit() (now, peak int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.credit, max(st.peak, st.credit)
}

// Buffered is how many received bytes wait to be read.
func (st *Stream) Buffered() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.in.Len()
}

// WaitClosed waits for stream_close or an error frame naming the stream and returns its code.
func (st *Stream) WaitClosed(timeout time.Duration) (schemas.ErrorCode, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, st.cond.Broadcast)
	defer timer.Stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	for !st.closed {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("stream %d not closed within %s", st.ID, timeout)
		}
		st.cond.Wait()
	}
	return st.code, st.err
}

// Fault is the error frame that ended the stream, if one did.
func (st *Stream) Fault() *schemas.ErrorFrame {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.fault_
}

// Tracked is the stream with id if the client opened it.
func (c *Client) Tracked(id uint32) *Stream { return c.stream(id) }
