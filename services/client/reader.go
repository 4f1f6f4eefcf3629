package client

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/shared/logging"
)

const (
	pooledChunk = 16 << 10
	// relayBuffer lets WriteTo hand several received chunks to the application at once.
	relayBuffer = 64 << 10
)

var (
	chunkPool = sync.Pool{New: func() any { b := make([]byte, pooledChunk); return &b }}
	msgPool   sync.Pool
)

// chunk is received stream data; pooled is set when it came from chunkPool.
type chunk struct {
	data   []byte
	pooled *[]byte
}

func newChunk(p []byte, copyIt bool) chunk {
	if !copyIt {
		return chunk{data: p}
	}
	if len(p) <= pooledChunk {
		b := chunkPool.Get().(*[]byte)
		return chunk{data: (*b)[:copy(*b, p)], pooled: b}
	}
	return chunk{data: append([]byte(nil), p...)}
}

func (c chunk) release() {
	if c.pooled != nil {
		chunkPool.Put(c.pooled)
	}
}

func (s *Session) takeMsgBuf() *[]byte {
	size := s.limits.MaxFrameSize + readLimitSlack
	if b, ok := msgPool.Get().(*[]byte); ok && len(*b) >= size {
		return b
	}
	b := make([]byte, size)
	return &b
}

func (s *Session) readLoop() {
	defer close(s.readerDone)
	idle := time.Duration(s.limits.IdleTimeoutMS) * time.Millisecond
	if idle <= 0 {
		idle = defaultIdle
	}
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(idle))
		kind, r, err := s.conn.NextReader()
		if err != nil {
			s.end(s.readFailure(err, idle))
			return
		}
		buf := s.takeMsgBuf()
		n, err := io.ReadFull(r, *buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			msgPool.Put(buf)
			s.end(s.readFailure(err, idle))
			return
		}
		err = s.handle(kind, (*buf)[:n])
		msgPool.Put(buf)
		if err != nil {
			s.end(err)
			return
		}
	}
}

func (s *Session) readFailure(err error, idle time.Duration) error {
	var (
		ce     *websocket.CloseError
		netErr net.Error
	)
	switch {
	case s.gatewayErr.Load() != nil:
		return s.gatewayErr.Load()
	case errors.As(err, &ce):
		code := schemas.ErrorCode(ce.Text)
		if _, known := plainWords[code]; known || code == schemas.CodeLimitReached {
			return &GatewayError{Code: code}
		}
		return fmt.Errorf("the gateway closed the session (close %d %s)", ce.Code, ce.Text)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("nothing heard from the gateway for %s", idle)
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Errorf("the gateway sent a frame larger than its max_frame_size of %d bytes", s.limits.MaxFrameSize)
	}
	return fmt.Errorf("connection to the gateway lost: %w", err)
}

// handle decodes and dispatches one message; an error ends the session.
func (s *Session) handle(kind int, msg []byte) error {
	var (
		frame any
		err   error
	)
	copyPayload := false
	if kind == websocket.BinaryMessage {
		if !s.binary {
			return errors.New("the gateway sent a binary frame although binary frames were not negotiated")
		}
		frame, err = wire.DecodeBinary(msg)
		copyPayload = true
	} else {
		frame, err = wire.DecodeText(msg)
	}
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Stream {
			s.log.Warn().Uint32(logging.FieldStream, we.StreamID).Str(logging.FieldReason, we.Message).Msg("undecodable frame from the gateway")
			return nil
		}
		return fmt.Errorf("the gateway sent an undecodable frame: %w", err)
	}
	switch f := frame.(type) {
	case schemas.StreamData:
		if st := s.stream(f.StreamID); st != nil && len(f.Payload) > 0 {
			st.onData(newChunk(f.Payload, copyPayload))
		}
	case schemas.StreamWindow:
		if st := s.stream(f.StreamID); st != nil {
			st.onCredit(f.Credit)
		}
	case schemas.StreamOK:
		if st := s.stream(f.StreamID); st != nil {
			st.onOpened()
		}
	case schemas.StreamClose:
		if st := s.stream(f.StreamID); st != nil {
			if f.Code == "" {
				st.onFin()
			} else {
				st.onFail(&GatewayError{Code: f.Code, Message: f.Message, StreamID: f.StreamID, Stream: true})
			}
		}
	case schemas.UDPData, schemas.UDPClose:
		s.onUDP(f, copyPayload)
	case schemas.ErrorFrame:
		s.onError(f)
	case schemas.Ping:
		go func() { _ = s.sendJSON(schemas.Pong{ID: f.ID}) }()
	case schemas.Pong:
		s.onPong(f.ID)
	default:
		return fmt.Errorf("the gateway sent an unexpected %T frame", frame)
	}
	return nil
}

func (s *Session) onError(f schemas.ErrorFrame) {
	if f.FlowID != nil {
		s.onFlowError(f)
		return
	}
	ge := &GatewayError{Code: f.Code, Limit: f.Limit, Message: f.Message}
	if f.StreamID != nil {
		ge.StreamID, ge.Stream = *f.StreamID, true
		if st := s.stream(*f.StreamID); st != nil {
			st.onFail(ge)
		}
		return
	}
	s.gatewayErr.CompareAndSwap(nil, ge)
	s.log.Warn().Str(logging.FieldCode, string(f.Code)).Str(logging.FieldReason, f.Message).Msg(Describe(f.Code, f.Limit))
}
