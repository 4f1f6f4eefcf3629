package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/flow"
	"github.com/httvps/httvps/shared/logging"
)

// stream is one client stream relayed to its target through the session's Outline node.
type stream struct {
	s      *Session
	id     uint32
	target string
	inbox  *inbox
	credit *credit
	recv   *flow.Window
	ctx    context.Context
	cancel context.CancelFunc
	ended  atomic.Bool
}

func (s *Session) addStream(f schemas.StreamOpen) (*stream, *schemas.RPCError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.streams) >= s.srv.Limits.MaxStreams {
		return nil, limitRefusal(schemas.LimitStreams, fmt.Sprintf("a session may have %d open streams", s.srv.Limits.MaxStreams))
	}
	if !s.mem.TryCharge(streamCost) && !(s.nodes.DropSpare() && s.mem.TryCharge(streamCost)) {
		return nil, limitRefusal(schemas.LimitMemory, "the session's memory budget has no room for another stream")
	}
	ctx, cancel := context.WithCancel(s.ctx)
	st := &stream{
		s: s, id: f.StreamID, target: f.Target, ctx: ctx, cancel: cancel,
		inbox:  newInbox(s.srv.Limits.Window, s.mem),
		credit: newCredit(s.flow, s.srv.Limits.Window),
	}
	if s.flow {
		st.recv = flow.NewWindow(s.srv.Limits.Window, s.srv.Limits.MaxWindow, s.budget, time.Now())
	}
	s.streams[f.StreamID] = st
	s.srv.Metrics.StreamsActive.Inc()
	return st, nil
}

func (st *stream) remove() {
	st.cancel()
	st.inbox.close()
	if st.recv != nil {
		st.recv.Close()
	}
	st.detach()
}

// detach takes the stream out of the session: its id joins the recently closed ones and its
// slot is free for another stream.
func (st *stream) detach() {
	s := st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[st.id] == st {
		delete(s.streams, st.id)
		s.closedIDs.add(st.id)
		s.srv.Metrics.StreamsActive.Dec()
		s.mem.Release(streamCost)
	}
}

// abort ends the stream without telling the client (it asked, or already knows).
func (st *stream) abort() {
	st.ended.Store(true)
	st.cancel()
	st.inbox.close()
}

// fail ends the stream with a stream_close carrying code, once. The stream leaves the session
// first, so a client that opens another one on seeing the close finds its slot free.
func (st *stream) fail(code schemas.ErrorCode, message string) {
	if st.ended.CompareAndSwap(false, true) {
		st.remove()
		st.s.out.sendStream(outFrame{control: schemas.StreamClose{StreamID: st.id, Code: code, Message: message}})
	}
	st.cancel()
	st.inbox.close()
}

func (st *stream) run() {
	defer st.remove()
	conn, ok := st.connect()
	if !ok {
		return
	}
	defer conn.Close()
	if st.s.confirm {
		st.s.out.sendStream(outFrame{control: schemas.StreamOK{StreamID: st.id}})
	}
	if err := conn.Flush(); err != nil {
		if st.ctx.Err() == nil {
			st.fail(schemas.CodeUpstreamUnreachable, "the connection to the outline node failed")
		}
		return
	}
	stop := context.AfterFunc(st.ctx, func() { conn.Close() })
	defer stop()
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		st.pumpUp(conn)
	}()
	received, err := st.pumpDown(conn)
	switch {
	case st.ctx.Err() != nil:
	case received == 0 && !st.inbox.isFinished():
		st.s.srv.Metrics.UpstreamErrors.WithLabelValues(metrics.DialTarget).Inc()
		st.fail(schemas.CodeUpstreamUnreachable, "the outline node closed the stream before the target sent anything: the target is probably unreachable")
	case err != nil:
		st.fail(schemas.CodeUpstreamUnreachable, "the connection to the target failed")
	default:
		if st.inbox.isFinished() {
			st.detach()
		}
		st.s.out.sendStream(outFrame{control: schemas.StreamClose{StreamID: st.id}})
	}
	<-upDone
	// the session's next stream may skip the connect; after this stream, off its path
	st.s.nodes.Refill(st.s.ctx, st.s.mem, st.s.running.Go)
}

func (st *stream) connect() (*upstream.Conn, bool) {
	srv := st.s.srv
	addr, err := srv.Policy.Resolve(st.ctx, st.target)
	if err == nil {
		var conn *upstream.Conn
		conn, err = st.s.nodes.Dial(st.ctx, addr)
		if err == nil {
			return conn, true
		}
	}
	if st.ctx.Err() != nil {
		return nil, false
	}
	var failure *upstream.Failure
	if !errors.As(err, &failure) {
		failure = &upstream.Failure{Code: schemas.CodeUpstreamUnreachable, Kind: metrics.DialTarget, Message: err.Error()}
	}
	srv.Metrics.UpstreamErrors.WithLabelValues(failure.Kind).Inc()
	st.s.log.Debug().Uint32(logging.FieldStream, st.id).Str(logging.FieldCode, string(failure.Code)).Str(logging.FieldReason, failure.Message).Msg("stream refused")
	st.fail(failure.Code, failure.Message)
	return nil, false
}

// pumpDown relays target to client within the stream's credit. It returns the bytes relayed
// and nil at the target's end of stream.
func (st *stream) pumpDown(conn *upstream.Conn) (int64, error) {
	var total int64
	for {
		n, ok := st.credit.wait(st.ctx, st.s.chunk)
		if !ok {
			return total, st.ctx.Err()
		}
		chunk := st.s.takeChunk(st.ctx)
		if chunk == nil {
			return total, st.ctx.Err()
		}
		nr, err := conn.Read((*chunk)[:n])
		nr, limited := st.s.admitDown(st.ctx, nr)
		if nr > 0 {
			total += int64(nr)
			st.credit.spend(nr)
			if !st.s.out.sendStream(outFrame{streamID: st.id, payload: (*chunk)[:nr], chunk: chunk}) {
				return total, st.ctx.Err()
			}
		} else {
			st.s.releaseChunk(chunk)
		}
		if limited {
			return total, st.ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read from target: %w", err)
		}
	}
}

// pumpUp writes the client's data to the target, half-closes after the client's stream_close
// and grants credit back as data leaves.
func (st *stream) pumpUp(conn *upstream.Conn) {
	for {
		chunk, fin, ok := st.inbox.pop(st.ctx)
		if !ok {
			return
		}
		if fin {
			if err := conn.CloseWrite(); err != nil && st.ctx.Err() == nil {
				st.fail(schemas.CodeUpstreamUnreachable, "the connection to the target failed")
			}
			return
		}
		allowed, limited := st.s.admitUp(st.ctx, len(chunk))
		if limited && allowed == 0 {
			return
		}
		n, err := conn.Write(chunk[:allowed])
		st.s.usage.AddUp(n)
		queued := st.inbox.written(len(chunk))
		if err != nil {
			if st.ctx.Err() == nil {
				st.fail(schemas.CodeUpstreamUnreachable, "the connection to the target failed")
			}
			return
		}
		if limited {
			return
		}
		if st.recv == nil {
			continue
		}
		credit, growth := st.recv.Consumed(len(chunk), flow.Use{Flush: queued == 0, Buffered: queued}, st.s.rtt.get(), time.Now())
		if credit > 0 {
			st.inbox.acked(credit-growth, growth)
			st.s.out.sendControl(schemas.StreamWindow{StreamID: st.id, Credit: uint32(credit)})
		}
	}
}
