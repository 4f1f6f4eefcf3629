package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/httvps/httvps/services/client/internal/socks5"
	"github.com/httvps/httvps/shared/workpool"
	"github.com/rs/zerolog"
)

// connWorkers carry the SOCKS connections' goroutines, so a new connection starts on a grown
// stack.
var connWorkers = workpool.New(64, time.Second)

const (
	defaultHandshakeTimeout = 10 * time.Second
	defaultOpenTimeout      = 15 * time.Second
)

// Opener opens streams: a *Tunnel (waits while reconnecting) or a *Session.
type Opener interface {
	OpenStream(ctx context.Context, target string) (*Stream, error)
}

// SOCKSServer is a SOCKS5 front end (CONNECT and UDP ASSOCIATE, no authentication) that
// carries every connection in a stream and every UDP association in a UDP flow.
type SOCKSServer struct {
	Opener Opener
	Log    zerolog.Logger
	// HandshakeTimeout bounds the SOCKS greeting and request; OpenTimeout the wait for a
	// session while the tunnel reconnects.
	HandshakeTimeout time.Duration
	OpenTimeout      time.Duration
}

// Serve accepts connections on ln until ctx ends, then closes ln and the open connections
// and returns once every connection is done.
func (srv *SOCKSServer) Serve(ctx context.Context, ln net.Listener) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("socks: accept: %w", err)
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			conn.Close()
			continue
		}
		conns[conn] = struct{}{}
		mu.Unlock()
		connWorkers.GoIn(&wg, func() {
			srv.handle(ctx, conn)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		})
	}
}

func (srv *SOCKSServer) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	hs := srv.HandshakeTimeout
	if hs <= 0 {
		hs = defaultHandshakeTimeout
	}
	_ = conn.SetDeadline(time.Now().Add(hs))
	if err := socks5.Negotiate(conn); err != nil {
		srv.Log.Debug().Err(err).Msg("socks greeting refused")
		return
	}
	req, err := socks5.ReadRequest(conn)
	if err != nil {
		if se, ok := socks5.AsError(err); ok && !se.Replied {
			_ = socks5.WriteReply(conn, se.Reply, netip.AddrPort{})
		}
		srv.Log.Debug().Err(err).Msg("socks request refused")
		return
	}
	if req.Command == socks5.CmdUDPAssociate {
		srv.associate(ctx, conn)
		return
	}
	reply := &socksReply{conn: conn}
	st, err := srv.open(ctx, req.Target(), reply.answer)
	if err != nil {
		rep := ReplyFor(err)
		_ = reply.send(rep)
		srv.Log.Info().Str("target", req.Target()).Str("reply", rep.String()).Msg(plain(err))
		return
	}
	defer st.Close()
	if err := reply.send(socks5.Succeeded); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	relay(conn, st)
}

// open opens a stream and waits for the gateway's answer; onAnswer gets it first, on the
// session's reader goroutine (Stream.OnAnswer).
func (srv *SOCKSServer) open(ctx context.Context, target string, onAnswer func(error)) (*Stream, error) {
	ot := srv.OpenTimeout
	if ot <= 0 {
		ot = defaultOpenTimeout
	}
	octx, cancel := context.WithTimeout(ctx, ot)
	defer cancel()
	st, err := srv.Opener.OpenStream(octx, target)
	if err != nil {
		return nil, err
	}
	st.OnAnswer(onAnswer)
	if err := st.AwaitOpen(octx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// socksReply writes the one reply to a SOCKS request: from the session's reader goroutine as
// soon as the gateway answered the stream_open, or from the connection's goroutine. A second
// send waits for the first and returns its error.
type socksReply struct {
	conn net.Conn
	once sync.Once
	err  error
}

func (r *socksReply) send(rep socks5.Reply) error {
	r.once.Do(func() { r.err = socks5.WriteReply(r.conn, rep, netip.AddrPort{}) })
	return r.err
}

func (r *socksReply) answer(err error) {
	if err == nil {
		_ = r.send(socks5.Succeeded)
		return
	}
	_ = r.send(ReplyFor(err))
}

// ReplyFor is the SOCKS5 reply for a failure to open a stream.
func ReplyFor(err error) socks5.Reply {
	if ge, ok := AsGatewayError(err); ok {
		return socks5.ReplyFor(ge.Code, ge.Message)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrSessionClosed), errors.Is(err, ErrTunnelStopped):
		return socks5.NetworkUnreachable
	case errors.As(err, new(*CertificateError)):
		return socks5.NotAllowed
	}
	return socks5.GeneralFailure
}

// relay copies both ways with half-close; a failure on either side aborts both. The caller's
// goroutine carries the stream to the application.
func relay(conn net.Conn, st *Stream) {
	errs := make(chan error, 2)
	connWorkers.Go(func() {
		_, err := io.Copy(st, conn)
		if err == nil {
			err = st.CloseWrite()
		}
		errs <- err
	})
	_, err := io.Copy(conn, st)
	if err == nil {
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			err = cw.CloseWrite()
		}
	}
	errs <- err
	for range 2 {
		if err := <-errs; err != nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0)
			}
			conn.Close()
			st.Close()
		}
	}
}
