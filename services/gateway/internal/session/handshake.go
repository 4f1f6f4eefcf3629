package session

import (
	"context"
	"errors"
	"net"
	"slices"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/session/memory"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/corked"
	"github.com/httvps/httvps/shared/flow"
	"github.com/httvps/httvps/shared/logging"
	"golang.org/x/time/rate"
)

var supportedFeatures = []string{schemas.FeatureBinary, schemas.FeatureFlowControl, schemas.FeatureStreamConfirm, schemas.FeatureUDP}

// handshake reads hello, asks the control plane and answers hello_ok. On failure it has
// already sent the error frame and closed conn.
func (srv *Server) handshake(conn Conn) (*Session, bool) {
	hello, refusal := srv.readHello(conn)
	if refusal != nil {
		srv.refuse(conn, refusal)
		return nil, false
	}
	log := srv.Log.With().Str(logging.FieldDevice, hello.DeviceID).Str(logging.FieldRegion, hello.Region).Logger()
	ctx := srv.ctx
	reply, refusal := srv.Backend.ValidateDevice(ctx, schemas.ValidateDeviceRequest{
		DeviceID: hello.DeviceID, AccessToken: hello.AccessToken, Region: hello.Region,
		ClientVersion: hello.ClientVersion, Platform: hello.Platform,
	})
	if refusal != nil {
		srv.refusals.Info().Str(logging.FieldDevice, hello.DeviceID).Str(logging.FieldRegion, hello.Region).
			Str(logging.FieldCode, string(refusal.Code)).Str(logging.FieldReason, refusal.Message).Msg("device refused")
		srv.refuse(conn, srv.unlessDraining(refusal))
		return nil, false
	}
	s := srv.newSession(conn, hello, reply)
	s.log = log.With().Str(logging.FieldSession, s.id).Int64(logging.FieldUser, s.userID).Logger()
	if refusal := s.openSlot(reply); refusal != nil {
		log.Info().Str(logging.FieldCode, string(refusal.Code)).Str(logging.FieldReason, refusal.Message).Msg("session slot refused")
		srv.refuse(conn, srv.unlessDraining(refusal))
		return nil, false
	}
	assign := func(ctx context.Context, exclude []int64) (schemas.OutlineAssignment, *schemas.RPCError) {
		return srv.Backend.AssignOutline(ctx, schemas.AssignOutlineRequest{
			Region: hello.Region, UserID: s.userID, DeviceID: hello.DeviceID, ExcludeNodeIDs: exclude,
		})
	}
	nodes, refusal := srv.Nodes.NewNodeSet(ctx, assign, s.onFailover)
	if refusal != nil {
		log.Warn().Str(logging.FieldCode, string(refusal.Code)).Str(logging.FieldReason, refusal.Message).Msg("no outline node")
		s.closeSlot()
		srv.refuse(conn, srv.unlessDraining(refusal))
		return nil, false
	}
	s.nodes = nodes
	s.nodeID.Store(nodes.Current().ID)
	if !srv.registry.add(s) {
		s.closeSlot()
		srv.refuse(conn, &schemas.RPCError{Code: schemas.CodeGatewayShutdown, Message: "the gateway is shutting down"})
		return nil, false
	}
	if err := s.sendHelloOK(); err != nil {
		srv.registry.remove(s)
		s.closeSlot()
		srv.Metrics.Handshakes.WithLabelValues("write_failed").Inc()
		conn.Close()
		return nil, false
	}
	srv.Metrics.Handshakes.WithLabelValues("ok").Inc()
	return s, true
}

func (srv *Server) unlessDraining(refusal *schemas.RPCError) *schemas.RPCError {
	if srv.ctx.Err() != nil {
		return &schemas.RPCError{Code: schemas.CodeGatewayShutdown, Message: "the gateway is shutting down"}
	}
	return refusal
}

func (srv *Server) readHello(conn Conn) (schemas.Hello, *schemas.RPCError) {
	_ = conn.SetReadDeadline(time.Now().Add(srv.Limits.HelloTimeout))
	kind, msg, err := readHelloMessage(conn, min(helloMaxSize, srv.Limits.MaxFrameSize))
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeHelloTimeout, Message: "no hello within " + srv.Limits.HelloTimeout.String()}
	case errors.Is(err, errFrameTooLarge):
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeLimitReached, Limit: schemas.LimitFrame, Message: err.Error()}
	case err != nil:
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeProtocolError, Message: "connection closed before hello"}
	case kind != textMessage:
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeProtocolError, Message: "the first frame must be a JSON hello, got a binary message"}
	}
	frame, err := wire.DecodeText(msg)
	if err != nil {
		var we *wire.Error
		errors.As(err, &we)
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeProtocolError, Message: we.Message}
	}
	hello, ok := frame.(schemas.Hello)
	if !ok {
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeProtocolError, Message: "the first frame must be hello, got " + string(frameType(frame))}
	}
	if err := checkHello(hello); err != nil {
		return schemas.Hello{}, &schemas.RPCError{Code: schemas.CodeProtocolError, Message: err.Error()}
	}
	return hello, nil
}

// refuse sends the error frame of a failed handshake and closes the connection.
func (srv *Server) refuse(conn Conn, re *schemas.RPCError) {
	srv.Metrics.Handshakes.WithLabelValues(string(re.Code)).Inc()
	msg, _ := wire.AppendJSON(nil, schemas.ErrorFrame{Code: re.Code, Limit: re.Limit, Message: re.Message})
	deadline := time.Now().Add(srv.Limits.WriteTimeout)
	_ = conn.SetWriteDeadline(deadline)
	if conn.WriteMessage(textMessage, msg) == nil {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, string(re.Code)), deadline)
	}
	conn.Close()
}

func (srv *Server) newSession(conn Conn, hello schemas.Hello, reply schemas.ValidateDeviceReply) *Session {
	ctx, cancel := context.WithCancel(srv.ctx)
	s := &Session{
		srv:       srv,
		id:        uuid.NewString(),
		conn:      conn,
		hello:     hello,
		userID:    reply.UserID,
		startedAt: time.Now().UTC(),
		usage:     accounting.NewUsage(srv.Totals, srv.Metrics),
		ctx:       ctx,
		cancel:    cancel,
		streams:   map[uint32]*stream{},
		closedIDs: recentIDs{size: recentlyClosedIDs},
		mem:       memory.New(srv.Limits.SessionMemory, srv.memory),
	}
	if srv.Limits.StreamOpenRate > 0 {
		s.opens = rate.NewLimiter(rate.Limit(srv.Limits.StreamOpenRate), max(1, srv.Limits.StreamOpenBurst))
	}
	if reply.Device != nil {
		s.deviceRowID = reply.Device.ID
	}
	for _, f := range supportedFeatures {
		if slices.Contains(hello.Features, f) {
			s.features = append(s.features, f)
		}
	}
	s.binary = slices.Contains(s.features, schemas.FeatureBinary)
	s.flow = slices.Contains(s.features, schemas.FeatureFlowControl)
	s.confirm = slices.Contains(s.features, schemas.FeatureStreamConfirm)
	if s.flow {
		s.budget = flow.NewBudget(srv.Limits.SessionWindow)
	}
	s.chunk = min(maxChunk, wire.MaxStreamDataPayload(srv.Limits.MaxFrameSize, s.binary))
	if s.binary {
		s.chunk = min(s.chunk, recordChunk)
	}
	s.cork = corked.Of(conn)
	s.out = newWriter(s)
	return s
}

func (s *Session) sendHelloOK() error {
	l := s.srv.Limits
	limits := &schemas.SessionLimits{
		MaxStreams:     l.MaxStreams,
		MaxFrameSize:   l.MaxFrameSize,
		PingIntervalMS: int(l.PingInterval.Milliseconds()),
		IdleTimeoutMS:  int(l.IdleTimeout.Milliseconds()),
	}
	if s.flow {
		limits.InitialWindow = l.Window
		limits.MaxWindow = max(l.Window, l.MaxWindow)
		limits.SessionWindow = l.SessionWindow
	}
	s.udpLimits(limits)
	msg, err := wire.AppendJSON(nil, schemas.HelloOK{SessionID: s.id, Features: s.features, Limits: limits})
	if err != nil {
		return err
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(l.WriteTimeout))
	return s.conn.WriteMessage(textMessage, msg)
}

func frameType(frame any) schemas.FrameType {
	switch frame.(type) {
	case schemas.Hello:
		return schemas.FrameHello
	case schemas.HelloOK:
		return schemas.FrameHelloOK
	case schemas.ErrorFrame:
		return schemas.FrameError
	case schemas.StreamOpen:
		return schemas.FrameStreamOpen
	case schemas.StreamData:
		return schemas.FrameStreamData
	case schemas.StreamClose:
		return schemas.FrameStreamClose
	case schemas.StreamWindow:
		return schemas.FrameStreamWindow
	case schemas.StreamOK:
		return schemas.FrameStreamOK
	case schemas.UDPData:
		return schemas.FrameUDPData
	case schemas.UDPClose:
		return schemas.FrameUDPClose
	case schemas.Ping:
		return schemas.FramePing
	case schemas.Pong:
		return schemas.FramePong
	}
	return "unknown"
}

func (s *Session) onFailover(from, to *upstream.Node) {
	s.nodeID.Store(to.ID)
	s.srv.Metrics.NodeFailovers.Inc()
	s.log.Warn().Int64("from_node", from.ID).Int64(logging.FieldNode, to.ID).Msg("outline node failed, session moved to another node")
}
