package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

// udpQueue is the datagrams a UDPConn holds for its reader; more are dropped, as UDP does.
const udpQueue = 256

// ErrUDPNotNegotiated is returned by ListenUDP when the gateway did not accept udp.
var ErrUDPNotNegotiated = errors.New("httvps: the session has no udp (the gateway did not accept it, or it was not asked for)")

type datagram struct {
	from    net.Addr
	payload []byte
}

// udpFlows are the UDP flows of a session.
type udpFlows struct {
	mu    sync.Mutex
	conns map[uint32]*UDPConn
	next  uint32
}

// UDPConn is one UDP flow through the gateway: a net.PacketConn whose WriteTo sends a
// datagram to any host:port (names are resolved by the gateway) and whose ReadFrom returns
// the replies with their source. A datagram the gateway refused (forbidden target, oversize)
// makes the next ReadFrom return its *GatewayError once; the flow goes on. When the gateway
// closes the flow (idle, flow cap) ReadFrom returns its *GatewayError from then on.
type UDPConn struct {
	s    *Session
	id   uint32
	recv chan datagram
	done chan struct{}
	once sync.Once

	// deliver, when set, takes each datagram (its source as the gateway wrote it) on the
	// session's read loop instead of recv; p is valid only during the call.
	deliver atomic.Pointer[func(source string, p []byte)]

	mu      sync.Mutex
	err     error
	refusal error
	readDL  time.Time
	writeDL time.Time
}

// UDP reports whether the session carries UDP flows.
func (s *Session) UDP() bool { return s.udp }

// ListenUDP opens a UDP flow; it costs nothing at the gateway until the first datagram.
func (s *Session) ListenUDP(ctx context.Context) (*UDPConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.udp {
		return nil, ErrUDPNotNegotiated
	}
	if err := s.errIfEnded(); err != nil {
		return nil, err
	}
	f := &s.flows
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == math.MaxUint32 {
		return nil, errors.New("httvps: the session has used all its flow ids; open a new session")
	}
	if f.conns == nil {
		f.conns = map[uint32]*UDPConn{}
	}
	f.next++
	c := &UDPConn{s: s, id: f.next, recv: make(chan datagram, udpQueue), done: make(chan struct{})}
	f.conns[c.id] = c
	return c, nil
}

func (s *Session) udpFlow(id uint32) *UDPConn {
	s.flows.mu.Lock()
	defer s.flows.mu.Unlock()
	return s.flows.conns[id]
}

func (s *Session) forgetFlow(id uint32) {
	s.flows.mu.Lock()
	defer s.flows.mu.Unlock()
	delete(s.flows.conns, id)
}

func (s *Session) failFlows(err error) {
	s.flows.mu.Lock()
	conns := make([]*UDPConn, 0, len(s.flows.conns))
	for _, c := range s.flows.conns {
		conns = append(conns, c)
	}
	clear(s.flows.conns)
	s.flows.mu.Unlock()
	for _, c := range conns {
		c.fail(err)
	}
}

// onUDP takes a udp_data or udp_close from the gateway.
func (s *Session) onUDP(frame any, copyPayload bool) {
	switch f := frame.(type) {
	case schemas.UDPData:
		c := s.udpFlow(f.FlowID)
		if c == nil {
			return
		}
		if d := c.deliver.Load(); d != nil {
			(*d)(f.Addr, f.Payload)
			return
		}
		from := net.Addr(udpTarget(f.Addr))
		if ap, err := netip.ParseAddrPort(f.Addr); err == nil {
			from = net.UDPAddrFromAddrPort(ap)
		}
		p := f.Payload
		if copyPayload {
			p = append([]byte(nil), p...)
		}
		select {
		case c.recv <- datagram{from: from, payload: p}:
		default:
		}
	case schemas.UDPClose:
		if c := s.udpFlow(f.FlowID); c != nil {
			s.forgetFlow(f.FlowID)
			c.fail(&GatewayError{Code: f.Code, Limit: f.Limit, Message: f.Message, FlowID: f.FlowID})
		}
	}
}

func (s *Session) onFlowError(f schemas.ErrorFrame) {
	if c := s.udpFlow(*f.FlowID); c != nil {
		c.mu.Lock()
		c.refusal = &GatewayError{Code: f.Code, Limit: f.Limit, Message: f.Message, FlowID: *f.FlowID}
		c.mu.Unlock()
		select {
		case c.recv <- datagram{}:
		default:
		}
	}
}

func (s *Session) sendDatagram(id uint32, addr string, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.errIfEnded(); err != nil {
		return err
	}
	var err error
	kind := websocket.TextMessage
	if s.binary {
		kind = websocket.BinaryMessage
		s.scratch, err = wire.AppendBinaryUDPData(s.scratch[:0], id, addr, p)
	} else {
		s.scratch, err = wire.AppendJSON(s.scratch[:0], schemas.UDPData{FlowID: id, Addr: addr, Payload: p})
	}
	if err != nil {
		return err
	}
	return s.write(kind, s.scratch)
}

func (c *UDPConn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.once.Do(func() { close(c.done) })
}

// ID is the flow id.
func (c *UDPConn) ID() uint32 { return c.id }

// WriteTo sends p as one datagram to addr (host:port). A datagram over the session's
// max_datagram is refused here, with the gateway's code.
func (c *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	err, dl := c.err, c.writeDL
	c.mu.Unlock()
	switch {
	case err != nil:
		return 0, err
	case !dl.IsZero() && time.Now().After(dl):
		return 0, os.ErrDeadlineExceeded
	case addr == nil:
		return 0, errors.New("httvps: WriteTo needs an address")
	}
	if err := checkTarget(addr.String()); err != nil {
		return 0, err
	}
	if max := c.s.limits.MaxDatagram; max > 0 && len(p) > max {
		return 0, &GatewayError{Code: schemas.CodeLimitReached, Limit: schemas.LimitDatagram, FlowID: c.id,
			Message: fmt.Sprintf("a datagram of %d bytes is over max_datagram %d", len(p), max)}
	}
	if err := c.s.sendDatagram(c.id, addr.String(), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadFrom waits for the next datagram; a longer one than p is cut, as UDP does.
func (c *UDPConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		dl, refusal := c.readDL, c.refusal
		c.refusal = nil
		c.mu.Unlock()
		if refusal != nil {
			return 0, nil, refusal
		}
		var timeout <-chan time.Time
		if !dl.IsZero() {
			t := time.NewTimer(time.Until(dl))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case d := <-c.recv:
			if d.from == nil {
				continue
			}
			return copy(p, d.payload), d.from, nil
		case <-c.done:
			c.mu.Lock()
			defer c.mu.Unlock()
			return 0, nil, c.err
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		}
	}
}

// Close ends the flow and tells the gateway.
func (c *UDPConn) Close() error {
	c.mu.Lock()
	already := c.err != nil
	c.mu.Unlock()
	c.fail(net.ErrClosed)
	c.s.forgetFlow(c.id)
	if already {
		return nil
	}
	if err := c.s.sendJSON(schemas.UDPClose{FlowID: c.id}); err != nil && !errors.Is(err, ErrSessionClosed) {
		return err
	}
	return nil
}

func (c *UDPConn) LocalAddr() net.Addr { return udpTarget(fmt.Sprintf("flow-%d", c.id)) }

func (c *UDPConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDL, c.writeDL = t, t
	return nil
}

func (c *UDPConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDL = t
	return nil
}

func (c *UDPConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDL = t
	return nil
}

// UDPTarget is a host:port to send datagrams to, for names the gateway resolves.
type udpTarget string

// UDPAddr is the net.Addr of a host:port for WriteTo; a host name is resolved by the gateway.
func UDPAddr(hostPort string) net.Addr { return udpTarget(hostPort) }

func (a udpTarget) Network() string { return "udp" }
func (a udpTarget) String() string  { return string(a) }

var _ net.PacketConn = (*UDPConn)(nil)
