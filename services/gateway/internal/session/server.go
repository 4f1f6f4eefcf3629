// Package session runs HTTVPS sessions: the hello handshake, the multiplexed streams with
// their flow control, ping/pong and the end of a session with its code.
package session

import (
	"context"
	"github.com/httvps/httvps/services/gateway/internal/udp"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/session/memory"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/rs/zerolog"
)

// Conn is the WebSocket connection of a session.
type Conn interface {
	NextReader() (int, io.Reader, error)
	NextWriter(messageType int) (io.WriteCloser, error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	RemoteAddr() net.Addr
	Close() error
}

const (
	textMessage   = websocket.TextMessage
	binaryMessage = websocket.BinaryMessage
	maxChunk      = 16 << 10
	// streamCost is what an open stream holds besides the data in its inbox, as measured by
	// make bench (docs/benchmarks.md): two goroutine stacks, the Shadowsocks writer's buffer,
	// what the upstream keeps to replay before the node's first reply, the stream itself.
	streamCost      = 104 << 10
	refusalLogBurst = 20
	// recordChunk is the binary payload whose WebSocket message fills one TLS record (16 KiB
	// of plaintext less a 4-byte WebSocket header and the 5-byte binary header).
	recordChunk = maxChunk - 4 - wire.BinaryHeaderSize
)

type Limits struct {
	MaxStreams    int
	MaxFrameSize  int
	Window        int
	MaxWindow     int
	SessionWindow int
	HelloTimeout  time.Duration
	PingInterval  time.Duration
	IdleTimeout   time.Duration
	WriteTimeout  time.Duration
	DialTimeout   time.Duration
	// Protection (docs/04): memory budgets in bytes, connection caps (0: none) and the rate
	// of stream_open per session.
	SessionMemory         int64
	GatewayMemory         int64
	MaxSessions           int
	MaxSessionsPerAddress int
	MaxHandshakes         int
	StreamOpenRate        float64
	StreamOpenBurst       int
	TrustedProxyHeader    string
	TrustedProxies        []netip.Prefix
	UDP                   udp.Limits
	LeaseBytes            int
}

// Backend is the control plane as the handshake sees it.
type Backend interface {
	ValidateDevice(ctx context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, *schemas.RPCError)
	AssignOutline(ctx context.Context, req schemas.AssignOutlineRequest) (schemas.OutlineAssignment, *schemas.RPCError)
}

type Deps struct {
	GatewayID string
	Limits    Limits
	Backend   Backend
	Slots     Slots
	Policy    upstream.Policy
	Nodes     *upstream.Pool
	Outbox    *accounting.Outbox
	Totals    *accounting.Totals
	Metrics   *metrics.Metrics
	Log       zerolog.Logger
}

// Server serves sessions and keeps the registry of live ones.
type Server struct {
	Deps
	registry  *Registry
	admission *admission
	memory    *memory.Budget
	refusals  zerolog.Logger
	chunks    sync.Pool
	frames    sync.Pool
	scratch   sync.Pool
	ctx       context.Context
	cancel    context.CancelFunc
}

func NewServer(d Deps) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{Deps: d, registry: newRegistry(d.Metrics), admission: newAdmission(d.Limits),
		memory: memory.New(d.Limits.GatewayMemory, nil), ctx: ctx, cancel: cancel,
		refusals: d.Log.Sample(&zerolog.BurstSampler{Burst: refusalLogBurst, Period: time.Second})}
	srv.chunks.New = func() any {
		b := make([]byte, maxChunk)
		return &b
	}
	srv.frames.New = func() any {
		b := make([]byte, d.Limits.MaxFrameSize+1)
		return &b
	}
	srv.scratch.New = func() any { return new([]byte) }
	return srv
}

func (srv *Server) Registry() *Registry { return srv.registry }

// Serve runs one WebSocket connection to its end. It returns when every goroutine of the
// session is done, so the caller may release conn.
func (srv *Server) Serve(conn Conn) {
	if !srv.registry.enter() {
		srv.refuse(conn, &schemas.RPCError{Code: schemas.CodeGatewayShutdown, Message: "the gateway is shutting down"})
		return
	}
	defer srv.registry.leave()
	t, refusal := srv.admission.admit(srv.clientAddr(conn))
	if refusal != nil {
		srv.Metrics.LimitRefusals.WithLabelValues(string(refusal.Limit)).Inc()
		srv.refuse(conn, refusal)
		return
	}
	defer t.leave()
	s, ok := srv.handshake(conn)
	t.handshakeDone()
	if !ok {
		return
	}
	s.run()
}

// Drain refuses new sessions, ends the live ones with GATEWAY_SHUTDOWN and waits for them
// until ctx ends.
func (srv *Server) Drain(ctx context.Context) error {
	srv.registry.startDraining()
	srv.cancel()
	srv.registry.terminateAll(ending{code: schemas.CodeGatewayShutdown, reason: schemas.EndReasonShutdown, message: "the gateway is shutting down"})
	return srv.registry.wait(ctx)
}

// ReportUsage queues a usage report for every session that moved bytes since its last one.
func (srv *Server) ReportUsage() {
	srv.Metrics.MemoryCharged.Set(float64(srv.memory.Used()))
	for _, s := range srv.registry.all() {
		s.reportUsage(false)
	}
}

// takeChunk is a read buffer charged to the session's memory, nil when ctx ends first.
func (s *Session) takeChunk(ctx context.Context) *[]byte {
	if !s.mem.TryCharge(maxChunk) && s.mem.Charge(ctx, maxChunk) != nil {
		return nil
	}
	return s.srv.chunks.Get().(*[]byte)
}

func (s *Session) releaseChunk(c *[]byte) {
	if c != nil {
		s.srv.chunks.Put(c)
		s.mem.Release(maxChunk)
	}
}

// MemoryCharged is what the sessions hold now in charged memory.
func (srv *Server) MemoryCharged() int64 { return srv.memory.Used() }

// Draining reports whether the server refuses new sessions.
func (srv *Server) Draining() bool { return srv.ctx.Err() != nil }
