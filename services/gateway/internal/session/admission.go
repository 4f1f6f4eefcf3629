package session

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/httvps/httvps/schemas"
)

// admission caps what a gateway takes before it knows who is asking: sessions in total and
// per source address, and handshakes in flight.
type admission struct {
	maxSessions, perAddress, maxHandshakes int

	mu         sync.Mutex
	total      int
	handshakes int
	byAddr     map[netip.Addr]int
}

// ticket is one admitted connection; done releases its slots, once each.
type ticket struct {
	a         *admission
	addr      netip.Addr
	handshake bool
}

func newAdmission(l Limits) *admission {
	return &admission{maxSessions: l.MaxSessions, perAddress: l.MaxSessionsPerAddress, maxHandshakes: l.MaxHandshakes,
		byAddr: map[netip.Addr]int{}}
}

func (a *admission) admit(addr netip.Addr) (*ticket, *schemas.RPCError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.maxSessions > 0 && a.total >= a.maxSessions:
		return nil, limitRefusal(schemas.LimitGatewaySessions, fmt.Sprintf("the gateway holds its maximum of %d sessions", a.maxSessions))
	case a.perAddress > 0 && a.byAddr[addr] >= a.perAddress:
		return nil, limitRefusal(schemas.LimitAddressSessions, fmt.Sprintf("at most %d sessions per source address", a.perAddress))
	case a.maxHandshakes > 0 && a.handshakes >= a.maxHandshakes:
		return nil, limitRefusal(schemas.LimitHandshakes, fmt.Sprintf("the gateway has %d handshakes in flight", a.maxHandshakes))
	}
	a.total++
	a.handshakes++
	a.byAddr[addr]++
	return &ticket{a: a, addr: addr, handshake: true}, nil
}

func limitRefusal(limit schemas.LimitKind, message string) *schemas.RPCError {
	return &schemas.RPCError{Code: schemas.CodeLimitReached, Limit: limit, Message: message}
}

func (t *ticket) handshakeDone() {
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	if t.handshake {
		t.handshake = false
		t.a.handshakes--
	}
}

func (t *ticket) leave() {
	t.handshakeDone()
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	t.a.total--
	if t.a.byAddr[t.addr]--; t.a.byAddr[t.addr] <= 0 {
		delete(t.a.byAddr, t.addr)
	}
}

// headerConn is a WebSocket connection that still knows its upgrade request's headers.
type headerConn interface {
	Headers(key string, defaultValue ...string) string
}

// clientAddr is the connection's source address, or the first address of the trusted proxy
// header when one is configured and the connection comes from a trusted proxy.
func (srv *Server) clientAddr(conn Conn) netip.Addr {
	peer := netip.Addr{}
	if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil {
		peer = ap.Addr().Unmap()
	}
	l := srv.Limits
	hc, ok := conn.(headerConn)
	if l.TrustedProxyHeader == "" || !ok || !trusted(l.TrustedProxies, peer) {
		return peer
	}
	first, _, _ := strings.Cut(hc.Headers(l.TrustedProxyHeader), ",")
	if a, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
		return a.Unmap()
	}
	return peer
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
