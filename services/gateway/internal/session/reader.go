package session

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

// readLoop reads frames until the connection or the session ends and returns the ending.
func (s *Session) readLoop() ending {
	for {
		if s.ctx.Err() != nil {
			return ending{reason: schemas.EndReasonClientClosed}
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(s.srv.Limits.IdleTimeout))
		kind, msg, buf, err := s.srv.readMessage(s.conn)
		if err != nil {
			return s.readFailure(err)
		}
		frame, err := s.decode(kind, msg)
		if err != nil {
			s.srv.releaseFrame(buf)
			if e, fatal := s.decodeFailure(err); fatal {
				return e
			}
			continue
		}
		e, fatal := s.dispatch(frame)
		s.srv.releaseFrame(buf)
		if fatal {
			return e
		}
	}
}

// decode turns a message into a frame; a binary stream_data payload refers to msg until the
// frame is dispatched (the inbox copies it).
func (s *Session) decode(kind int, msg []byte) (any, error) {
	if kind != binaryMessage {
		return wire.DecodeText(msg)
	}
	if !s.binary {
		return nil, errors.New("binary frames were not negotiated in hello")
	}
	return wire.DecodeBinary(msg)
}

func (s *Session) readFailure(err error) ending {
	var netErr net.Error
	switch {
	case s.ctx.Err() != nil:
		return ending{reason: schemas.EndReasonClientClosed}
	case errors.Is(err, errFrameTooLarge):
		return ending{code: schemas.CodeLimitReached, limit: schemas.LimitFrame, reason: schemas.EndReasonProtocol, message: err.Error()}
	case errors.As(err, &netErr) && netErr.Timeout():
		return ending{code: schemas.CodeIdleTimeout, reason: schemas.EndReasonIdle,
			message: fmt.Sprintf("nothing received for %s", s.srv.Limits.IdleTimeout)}
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
		return ending{reason: schemas.EndReasonClientClosed}
	default:
		return ending{reason: schemas.EndReasonClientClosed, message: err.Error()}
	}
}

func protocolEnding(message string) ending {
	return ending{code: schemas.CodeProtocolError, reason: schemas.EndReasonProtocol, message: message}
}

// decodeFailure answers a frame that could not be decoded: a stream-level fault ends that
// stream, anything else ends the session.
func (s *Session) decodeFailure(err error) (ending, bool) {
	var we *wire.Error
	if !errors.As(err, &we) {
		return protocolEnding(err.Error()), true
	}
	if !we.Stream {
		return ending{code: we.Code, limit: we.Limit, reason: schemas.EndReasonProtocol, message: we.Message}, true
	}
	s.streamFault(we.StreamID, we.Code, "", we.Message)
	return ending{}, false
}

// streamFault sends an error frame for one stream and ends that stream if it is open.
func (s *Session) streamFault(id uint32, code schemas.ErrorCode, limit schemas.LimitKind, message string) {
	if st := s.stream(id); st != nil {
		st.abort()
	}
	streamID := id
	s.out.sendControl(schemas.ErrorFrame{Code: code, StreamID: &streamID, Limit: limit, Message: message})
}

func (s *Session) dispatch(frame any) (ending, bool) {
	switch f := frame.(type) {
	case schemas.StreamData:
		return s.onData(f)
	case schemas.StreamOpen:
		s.onOpen(f)
	case schemas.StreamClose:
		s.onClose(f)
	case schemas.StreamWindow:
		if !s.flow {
			return protocolEnding("stream_window without flow_control negotiated in hello"), true
		}
		s.onWindow(f)
	case schemas.UDPData, schemas.UDPClose:
		return s.onUDP(f)
	case schemas.Ping:
		s.out.sendControl(schemas.Pong{ID: f.ID})
	case schemas.Pong:
		s.rtt.pong(f.ID, time.Now())
	default:
		return protocolEnding(fmt.Sprintf("a client may not send %s after hello", frameType(frame))), true
	}
	return ending{}, false
}

func (s *Session) stream(id uint32) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// known reports whether id belongs to a stream closed a moment ago; frames for it are dropped.
func (s *Session) recentlyClosed(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closedIDs.has(id)
}

func (s *Session) onOpen(f schemas.StreamOpen) {
	if st := s.stream(f.StreamID); st != nil {
		s.streamFault(f.StreamID, schemas.CodeProtocolError, "", fmt.Sprintf("stream %d is already open", f.StreamID))
		return
	}
	if s.opens != nil && !s.opens.Allow() {
		s.srv.Metrics.LimitRefusals.WithLabelValues(string(schemas.LimitStreamOpenRate)).Inc()
		s.streamFault(f.StreamID, schemas.CodeLimitReached, schemas.LimitStreamOpenRate,
			fmt.Sprintf("a session may open %g streams a second", s.srv.Limits.StreamOpenRate))
		return
	}
	st, refusal := s.addStream(f)
	if refusal != nil {
		s.srv.Metrics.LimitRefusals.WithLabelValues(string(refusal.Limit)).Inc()
		s.streamFault(f.StreamID, refusal.Code, refusal.Limit, refusal.Message)
		return
	}
	s.running.Go(st.run)
}

func (s *Session) onData(f schemas.StreamData) (ending, bool) {
	st := s.stream(f.StreamID)
	if st == nil {
		s.unknownStream(f.StreamID, schemas.FrameStreamData)
		return ending{}, false
	}
	if len(f.Payload) == 0 {
		return ending{}, false
	}
	err := st.inbox.push(s.ctx, f.Payload, s.flow, s.srv.Limits.IdleTimeout)
	switch {
	case err == nil, errors.Is(err, errStreamGone):
	case errors.Is(err, errStalled):
		st.fail(schemas.CodeUpstreamUnreachable, fmt.Sprintf("%s within %s", err, s.srv.Limits.IdleTimeout))
	case errors.Is(err, errNoMemory):
		s.srv.Metrics.LimitRefusals.WithLabelValues(string(schemas.LimitMemory)).Inc()
		return ending{code: schemas.CodeLimitReached, limit: schemas.LimitMemory, reason: schemas.EndReasonProtocol,
			message: fmt.Sprintf("the session held %d bytes for its targets for %s without room for more", s.mem.Limit(), s.srv.Limits.IdleTimeout)}, true
	default:
		s.streamFault(f.StreamID, schemas.CodeProtocolError, "", err.Error())
	}
	return ending{}, false
}

func (s *Session) onClose(f schemas.StreamClose) {
	st := s.stream(f.StreamID)
	if st == nil {
		s.unknownStream(f.StreamID, schemas.FrameStreamClose)
		return
	}
	if f.Code != "" {
		st.abort()
		return
	}
	st.inbox.finish()
}

func (s *Session) onWindow(f schemas.StreamWindow) {
	st := s.stream(f.StreamID)
	if st == nil {
		s.unknownStream(f.StreamID, schemas.FrameStreamWindow)
		return
	}
	if err := st.credit.add(f.Credit); err != nil {
		s.streamFault(f.StreamID, schemas.CodeProtocolError, "", err.Error())
	}
}

func (s *Session) unknownStream(id uint32, t schemas.FrameType) {
	if s.recentlyClosed(id) {
		return
	}
	streamID := id
	s.out.sendControl(schemas.ErrorFrame{Code: schemas.CodeProtocolError, StreamID: &streamID,
		Message: fmt.Sprintf("%s for stream %d, which is not open", t, id)})
}
