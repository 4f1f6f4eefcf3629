package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/services/client/internal/socks5"
)

// UDPOpener opens UDP flows: a *Tunnel or a *Session. The SOCKS front end answers UDP
// ASSOCIATE only when its Opener is one.
type UDPOpener interface {
	ListenUDP(ctx context.Context) (*UDPConn, error)
}

// associate serves a UDP ASSOCIATE (RFC 1928 section 7): a UDP port next to the SOCKS port
// relays datagrams from the application's address to one flow, until the TCP connection ends.
func (srv *SOCKSServer) associate(ctx context.Context, conn net.Conn) {
	opener, ok := srv.Opener.(UDPOpener)
	if !ok {
		_ = socks5.WriteReply(conn, socks5.CommandNotSupported, netip.AddrPort{})
		return
	}
	local, _ := netip.ParseAddrPort(conn.LocalAddr().String())
	peer, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local.Addr(), 0)))
	if err != nil {
		_ = socks5.WriteReply(conn, socks5.GeneralFailure, netip.AddrPort{})
		srv.Log.Warn().Err(err).Msg("socks udp port not opened")
		return
	}
	defer pc.Close()
	octx, cancel := context.WithTimeout(ctx, srv.openTimeout())
	flow, err := opener.ListenUDP(octx)
	cancel()
	if err != nil {
		rep := ReplyFor(err)
		_ = socks5.WriteReply(conn, rep, netip.AddrPort{})
		srv.Log.Info().Str("reply", rep.String()).Msg(plain(err))
		return
	}
	defer flow.Close()
	if err := socks5.WriteReply(conn, socks5.Succeeded, pc.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	a := &association{pc: pc, flow: flow, peer: peer.Addr().Unmap(), srv: srv}
	var wg sync.WaitGroup
	wg.Go(a.toGateway)
	wg.Go(a.toApplication)
	_, _ = io.Copy(io.Discard, conn)
	pc.Close()
	flow.Close()
	wg.Wait()
}

func (srv *SOCKSServer) openTimeout() time.Duration {
	if srv.OpenTimeout > 0 {
		return srv.OpenTimeout
	}
	return defaultOpenTimeout
}

type association struct {
	srv  *SOCKSServer
	pc   *net.UDPConn
	flow *UDPConn
	peer netip.Addr
	app  atomic.Pointer[netip.AddrPort]
}

// toGateway relays the application's datagrams; only the SOCKS client's host may send.
func (a *association) toGateway() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := a.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if from.Addr().Unmap() != a.peer {
			continue
		}
		target, data, err := socks5.ParseUDP(buf[:n])
		if err != nil {
			a.srv.Log.Debug().Err(err).Msg("socks udp datagram dropped")
			continue
		}
		if app := a.app.Load(); app == nil || *app != from {
			addr := from
			a.app.Store(&addr)
		}
		if _, err := a.flow.WriteTo(data, UDPAddr(target)); err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, ErrSessionClosed) {
				return
			}
			a.srv.Log.Debug().Err(err).Str("target", target).Msg("socks udp datagram not sent")
		}
	}
}

// toApplication relays replies with their source in the SOCKS header, straight from the
// session's read loop; its own loop only waits for refusals and the end of the flow. The
// header is built again only when the source changes.
func (a *association) toApplication() {
	out := make([]byte, 0, 64<<10+socks5.UDPHeaderMax)
	var source string
	var header []byte
	deliver := func(from string, p []byte) {
		app := a.app.Load()
		if app == nil {
			return
		}
		if header == nil || from != source {
			ap, err := netip.ParseAddrPort(from)
			if err != nil {
				return
			}
			source, header = from, socks5.AppendUDP(header[:0], ap, nil)
		}
		out = append(append(out[:0], header...), p...)
		_, _ = a.pc.WriteToUDPAddrPort(out, *app)
	}
	a.flow.deliver.Store(&deliver)
	for {
		_, _, err := a.flow.ReadFrom(nil)
		if err == nil {
			continue
		}
		if ge, ok := AsGatewayError(err); ok && ge.FlowID != 0 && !a.closed() {
			a.srv.Log.Debug().Err(err).Msg("socks udp datagram refused by the gateway")
			continue
		}
		a.pc.Close()
		return
	}
}

func (a *association) closed() bool {
	select {
	case <-a.flow.done:
		return true
	default:
		return false
	}
}
