package session

import (
	"context"
	"github.com/httvps/httvps/services/gateway/internal/udp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/session/memory"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/corked"
	"github.com/httvps/httvps/shared/flow"
	"github.com/httvps/httvps/shared/logging"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

const recentlyClosedIDs = 4096

// ending is why a session ends; code is empty when no error frame is due (the client left).
type ending struct {
	code    schemas.ErrorCode
	limit   schemas.LimitKind
	message string
	reason  string
}

type Session struct {
	srv         *Server
	id          string
	conn        Conn
	hello       schemas.Hello
	userID      int64
	deviceRowID int64
	features    []string
	binary      bool
	flow        bool
	confirm     bool
	budget      *flow.Budget
	rtt         rttMeter
	cork        *corked.Conn
	mem         *memory.Budget
	opens       *rate.Limiter
	chunk       int
	startedAt   time.Time
	nodes       *upstream.NodeSet
	nodeID      atomic.Int64
	usage       *accounting.Usage
	out         *writer
	udp         *udp.Relay
	log         zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	end    atomic.Pointer[ending]

	mu        sync.Mutex
	streams   map[uint32]*stream
	closedIDs recentIDs
	running   sync.WaitGroup
}

// terminate ends the session; the first ending wins.
func (s *Session) terminate(e ending) {
	if s.end.CompareAndSwap(nil, &e) {
		s.cancel()
		s.out.wake()
	}
}

func (s *Session) run() {
	s.srv.Outbox.Started(schemas.SessionStarted{
		SessionID: s.id, GatewayID: s.srv.GatewayID, Region: s.hello.Region, UserID: s.userID,
		DeviceID: s.hello.DeviceID, OutlineNodeID: s.nodeID.Load(), ClientVersion: s.hello.ClientVersion,
		Platform: s.hello.Platform, StartedAt: s.startedAt,
	})
	s.log.Info().Strs("features", s.features).Int64(logging.FieldNode, s.nodeID.Load()).Msg("session started")
	s.out.start()
	s.startUDP()
	s.terminate(s.readLoop())
	s.closeStreams()
	s.closeUDP()
	s.out.wait()
	s.running.Wait()
	s.finish()
}

func (s *Session) closeStreams() {
	s.mu.Lock()
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	s.mu.Unlock()
	for _, st := range streams {
		st.abort()
	}
}

func (s *Session) finish() {
	e := s.end.Load()
	s.srv.registry.remove(s)
	s.reportUsage(true)
	up, down := s.usage.Totals()
	ended := time.Now().UTC()
	s.srv.Outbox.Ended(schemas.SessionEnded{
		SessionID: s.id, GatewayID: s.srv.GatewayID, Region: s.hello.Region, UserID: s.userID,
		DeviceID: s.hello.DeviceID, OutlineNodeID: s.nodeID.Load(), StartedAt: s.startedAt, EndedAt: ended,
		Seq: s.usage.Seq(), BytesUp: up, BytesDown: down, Reason: e.reason,
	})
	s.srv.Metrics.SessionsEnded.WithLabelValues(e.reason).Inc()
	s.log.Info().Str(logging.FieldReason, e.reason).Str(logging.FieldCode, string(e.code)).
		Int64("bytes_up", up).Int64("bytes_down", down).Dur(logging.FieldDuration, time.Since(s.startedAt)).Msg("session ended")
}

func (s *Session) reportUsage(final bool) {
	step, ok := s.usage.Next(final)
	if !ok {
		return
	}
	now := time.Now().UTC()
	rep := schemas.UsageReport{
		SessionID: s.id, Seq: step.Seq, GatewayID: s.srv.GatewayID, Region: s.hello.Region, UserID: s.userID,
		DeviceID: s.hello.DeviceID, OutlineNodeID: s.nodeID.Load(), BytesUp: step.Up, BytesDown: step.Down,
		DeltaUp: step.DeltaUp, DeltaDown: step.DeltaDown, StartedAt: s.startedAt, ReportedAt: now, Final: final,
	}
	if final {
		rep.EndedAt = &now
	}
	s.srv.Outbox.Usage(rep)
}

func (s *Session) streamCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}
