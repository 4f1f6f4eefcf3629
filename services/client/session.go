package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/shared/corked"
	"github.com/httvps/httvps/shared/flow"
	"github.com/httvps/httvps/shared/logging"
	"github.com/rs/zerolog"
)

const (
	maxSendChunk     = 32 << 10
	defaultIdle      = 60 * time.Second
	defaultPing      = 20 * time.Second
	closeGrace       = time.Second
	defaultMaxFrame  = 64 << 10
	autoWaitFloor    = 25 * time.Millisecond
	autoWaitUnknown  = 100 * time.Millisecond
	autoWaitCeiling  = time.Second
	abortCode        = schemas.CodeUpstreamUnreachable
	abortMessage     = "the client closed the stream"
	readLimitSlack   = 1 << 10
	rttSmoothingBits = 3
)

// Session is one accepted HTTVPS session: a WebSocket carrying multiplexed streams.
type Session struct {
	cfg      Config
	conn     *websocket.Conn
	log      zerolog.Logger
	id       string
	features []string
	limits   schemas.SessionLimits
	binary   bool
	flow     bool
	confirm  bool
	udp      bool
	flows    udpFlows
	chunk    int
	window   int
	budget   *flow.Budget
	cork     *corked.Conn

	wmu     sync.Mutex
	scratch []byte

	mu      sync.Mutex
	streams map[uint32]*Stream
	nextID  uint32
	endErr  error
	closing bool

	gatewayErr atomic.Pointer[GatewayError]
	done       chan struct{}
	readerDone chan struct{}
	endOnce    sync.Once

	pingID   atomic.Uint64
	pingSent atomic.Int64
	srtt     atomic.Int64
	pinger   *time.Timer
}

func newSession(conn *websocket.Conn, cfg Config, ok schemas.HelloOK, log zerolog.Logger) *Session {
	s := &Session{
		cfg: cfg, conn: conn, id: ok.SessionID, features: ok.Features,
		binary: negotiated(ok, schemas.FeatureBinary), flow: negotiated(ok, schemas.FeatureFlowControl),
		confirm: negotiated(ok, schemas.FeatureStreamConfirm), udp: negotiated(ok, schemas.FeatureUDP),
		streams: map[uint32]*Stream{}, done: make(chan struct{}), readerDone: make(chan struct{}),
	}
	s.log = log.With().Str(logging.FieldSession, s.id).Logger()
	s.cork = corked.Of(conn)
	if ok.Limits != nil {
		s.limits = *ok.Limits
	}
	if s.limits.MaxFrameSize <= 0 {
		s.limits.MaxFrameSize = defaultMaxFrame
	}
	s.chunk = min(maxSendChunk, wire.MaxStreamDataPayload(s.limits.MaxFrameSize, s.binary))
	s.window = cfg.RecvBuffer
	if s.flow {
		s.window = s.limits.InitialWindow
		if s.window <= 0 {
			s.flow = false
			s.window = cfg.RecvBuffer
		}
	}
	if s.flow {
		s.budget = flow.NewBudget(cfg.SessionWindow)
	}
	conn.SetReadLimit(int64(s.limits.MaxFrameSize + readLimitSlack))
	go s.readLoop()
	s.ping()
	return s
}

func (s *Session) ID() string                    { return s.id }
func (s *Session) Features() []string            { return s.features }
func (s *Session) Limits() schemas.SessionLimits { return s.limits }
func (s *Session) Binary() bool                  { return s.binary }
func (s *Session) FlowControl() bool             { return s.flow }
func (s *Session) StreamConfirm() bool           { return s.confirm }

// Done is closed when the session has ended; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended: nil while it runs; wraps ErrSessionClosed and, when the
// gateway gave one, its *GatewayError.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endErr
}

// RTT is the smoothed round trip of the session's pings, 0 before the first pong.
func (s *Session) RTT() time.Duration { return time.Duration(s.srtt.Load()) }

// Streams is the number of open streams.
func (s *Session) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// OpenStream asks the gateway for a stream to target ("host:port"; host names are resolved by
// the gateway) and returns at once: data may be written before the gateway answers. With
// stream_confirm the gateway confirms or refuses it (Stream.AwaitOpen); without it a refusal
// arrives later as the stream's error (Stream.AwaitRefusal).
func (s *Session) OpenStream(ctx context.Context, target string) (*Stream, error) {
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.endErr != nil || s.closing {
		err := s.endErr
		s.mu.Unlock()
		if err == nil {
			err = &sessionEnded{}
		}
		return nil, err
	}
	if s.nextID == math.MaxUint32 {
		s.mu.Unlock()
		return nil, errors.New("httvps: the session has used all its stream ids; open a new session")
	}
	s.nextID++
	st := newStream(s, s.nextID, target)
	s.streams[st.id] = st
	s.mu.Unlock()
	if err := s.sendJSON(schemas.StreamOpen{StreamID: st.id, Target: target}); err != nil {
		s.forget(st)
		return nil, err
	}
	return st, nil
}

func checkTarget(target string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		return fmt.Errorf("target %q: want host:port", target)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("target %q: the port must be 1 to 65535", target)
	}
	return nil
}

// Close ends the session: its streams fail with ErrSessionClosed and the WebSocket is closed
// with a close frame.
func (s *Session) Close() error {
	s.mu.Lock()
	already := s.closing || s.endErr != nil
	s.closing = true
	s.mu.Unlock()
	if already {
		<-s.done
		return nil
	}
	s.failStreams(&sessionEnded{cause: errors.New("closed by the client")})
	err := s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeGrace))
	if err == nil {
		select {
		case <-s.readerDone:
		case <-time.After(closeGrace):
		}
	}
	s.end(nil)
	<-s.readerDone
	return nil
}

// end records why the session ended, once, and releases everything.
func (s *Session) end(cause error) {
	s.endOnce.Do(func() {
		if ge := s.gatewayErr.Load(); ge != nil {
			cause = ge
		}
		err := &sessionEnded{cause: cause}
		s.mu.Lock()
		s.endErr = err
		pinger := s.pinger
		s.mu.Unlock()
		if pinger != nil {
			pinger.Stop()
		}
		s.failStreams(err)
		s.failFlows(err)
		s.conn.Close()
		close(s.done)
		if cause != nil {
			s.log.Debug().Err(cause).Msg("session ended")
		}
	})
}

func (s *Session) failStreams(err error) {
	s.mu.Lock()
	streams := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	clear(s.streams)
	s.mu.Unlock()
	for _, st := range streams {
		st.onFail(err)
	}
}

func (s *Session) stream(id uint32) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

func (s *Session) forget(st *Stream) {
	if st.recv != nil {
		st.recv.Close()
	}
	s.mu.Lock()
	if s.streams[st.id] == st {
		delete(s.streams, st.id)
	}
	s.mu.Unlock()
}

// connectWait is how long the SOCKS front end waits for a refusal of a new stream.
func (s *Session) connectWait() time.Duration {
	if s.cfg.ConnectWait != ConnectWaitAuto {
		return s.cfg.ConnectWait
	}
	rtt := s.RTT()
	if rtt == 0 {
		return autoWaitUnknown
	}
	return min(autoWaitCeiling, 2*rtt+autoWaitFloor)
}

func (s *Session) ping() {
	interval := time.Duration(s.limits.PingIntervalMS) * time.Millisecond
	if interval <= 0 {
		interval = defaultPing
	}
	id := s.pingID.Add(1)
	s.pingSent.Store(time.Now().UnixNano())
	go func() {
		if s.sendJSON(schemas.Ping{ID: id}) == nil {
			s.mu.Lock()
			if s.endErr == nil {
				s.pinger = time.AfterFunc(interval, s.ping)
			}
			s.mu.Unlock()
		}
	}()
}

func (s *Session) onPong(id uint64) {
	if id == 0 || id != s.pingID.Load() {
		return
	}
	sample := time.Now().UnixNano() - s.pingSent.Load()
	old := s.srtt.Load()
	if old == 0 {
		s.srtt.Store(sample)
		return
	}
	s.srtt.Store(old + (sample-old)>>rttSmoothingBits)
}

func (s *Session) errIfEnded() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endErr
}

// write sends one message; its TLS records leave in one system call. s.wmu is held.
func (s *Session) write(kind int, msg []byte) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	err := s.writeCorked(kind, msg)
	if err != nil {
		if ended := s.errIfEnded(); ended != nil {
			return ended
		}
		err = fmt.Errorf("write to the gateway: %w", err)
		go s.end(err)
		return &sessionEnded{cause: err}
	}
	return nil
}

func (s *Session) writeCorked(kind int, msg []byte) error {
	if s.cork == nil {
		return s.conn.WriteMessage(kind, msg)
	}
	s.cork.Cork()
	err := s.conn.WriteMessage(kind, msg)
	if uerr := s.cork.Uncork(); err == nil {
		err = uerr
	}
	return err
}

func (s *Session) sendJSON(frame any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.errIfEnded(); err != nil {
		return err
	}
	msg, err := wire.AppendJSON(s.scratch[:0], frame)
	if err != nil {
		return err
	}
	s.scratch = msg
	return s.write(websocket.TextMessage, msg)
}

func (s *Session) sendData(id uint32, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.errIfEnded(); err != nil {
		return err
	}
	if s.binary {
		s.scratch = wire.AppendBinaryStreamData(s.scratch[:0], id, p)
		return s.write(websocket.BinaryMessage, s.scratch)
	}
	s.scratch = wire.AppendStreamDataJSON(s.scratch[:0], id, p)
	return s.write(websocket.TextMessage, s.scratch)
}

func (s *Session) sendWindow(id uint32, credit int) error {
	if !s.binary {
		return s.sendJSON(schemas.StreamWindow{StreamID: id, Credit: uint32(credit)})
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.errIfEnded(); err != nil {
		return err
	}
	s.scratch = wire.AppendBinaryStreamWindow(s.scratch[:0], id, uint32(credit))
	return s.write(websocket.BinaryMessage, s.scratch)
}
