package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway/internal/udp"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/backend"
	"github.com/httvps/httvps/services/gateway/internal/certs"
	"github.com/httvps/httvps/services/gateway/internal/control"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/session"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/httvps/httvps/shared/corked"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

const (
	// udpQueued bounds the bytes of client datagrams a session holds before their sockets take them.
	udpQueued = 1 << 20
	Name      = "gateway"
	Version   = "1.0.0"

	revalidateWorkers = 8
)

type Deps struct {
	NC         *nats.Conn
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

type Service struct {
	cfg            Config
	nc             *nats.Conn
	log            zerolog.Logger
	metrics        *metrics.Metrics
	gatherer       prometheus.Gatherer
	sessions       *session.Server
	outbox         *accounting.Outbox
	publisher      *accounting.Publisher
	heartbeat      *accounting.Heartbeat
	nodes          *upstream.Pool
	dialReports    *accounting.DialReporter
	control        *control.Control
	boot           schemas.GatewayBoot
	app            *fiber.App
	wsWriteBuffers sync.Pool
	ln             net.Listener
	certFile       string
	backend        *backend.Client
}

// New builds the gateway and binds its TLS listener, so Addr is known before Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if deps.NC == nil {
		return nil, errors.New("gateway: a NATS connection is required")
	}
	reg := deps.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := metrics.New(reg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	js, err := jetstream.New(deps.NC)
	if err != nil {
		return nil, fmt.Errorf("gateway: jetstream: %w", err)
	}
	pair, certFile, err := certs.Load(cfg.TLSCert, cfg.TLSKey, cfg.TLSDir, cfg.PublicIP)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	log := logging.For(deps.Log, Name).With().Str(logging.FieldGateway, cfg.GatewayID).Logger()
	totals := &accounting.Totals{}
	s := &Service{cfg: cfg, nc: deps.NC, log: log, metrics: m, certFile: certFile}
	s.boot = schemas.GatewayBoot{GatewayID: cfg.GatewayID, BootID: accounting.NewBootID(), Region: cfg.Region, BootedAt: time.Now().UTC()}
	s.log = log.With().Str(logging.FieldBoot, s.boot.BootID).Logger()
	log = s.log
	s.gatherer, _ = reg.(prometheus.Gatherer)
	s.outbox = accounting.NewOutbox(cfg.PendingLimit, m, log.With().Str(logging.FieldComponent, "usage").Logger())
	s.outbox.StampBoot(s.boot.BootID)
	s.publisher = accounting.NewPublisher(s.outbox, js, cfg.GatewayID, cfg.RequestTimeout, m, log.With().Str(logging.FieldComponent, "usage").Logger())
	s.nodes = upstream.NewPool(upstream.PoolConfig{
		DialTimeout: cfg.DialTimeout, NodeAttempts: cfg.NodeAttempts, ReplayLimit: cfg.ReplayLimit,
		ProbeInterval: cfg.NodeProbeInterval, ProbeFor: cfg.NodeProbeFor, SpareIdle: cfg.NodeSpareIdle,
	})
	s.dialReports = accounting.NewDialReporter(cfg.GatewayID, deps.NC, s.nodes, cfg.DialReportGap, cfg.HeartbeatInterval, m,
		log.With().Str(logging.FieldComponent, "dials").Logger())
	validator := backend.New(deps.NC, cfg.RequestTimeout, m)
	s.backend = validator
	s.sessions = session.NewServer(session.Deps{
		GatewayID: cfg.GatewayID,
		Limits: session.Limits{
			MaxStreams: cfg.MaxStreams, MaxFrameSize: cfg.MaxFrameSize, Window: cfg.StreamWindow,
			MaxWindow: cfg.MaxStreamWindow, SessionWindow: cfg.SessionWindow,
			SessionMemory: int64(cfg.Protection.SessionMemory), GatewayMemory: int64(cfg.Protection.Memory),
			MaxSessions: cfg.Protection.MaxSessions, MaxSessionsPerAddress: cfg.Protection.PerAddress,
			MaxHandshakes: cfg.Protection.MaxHandshakes, StreamOpenRate: float64(cfg.Protection.StreamOpenRate),
			StreamOpenBurst: cfg.Protection.StreamOpenBurst, TrustedProxyHeader: cfg.Protection.ProxyHeader,
			TrustedProxies: cfg.Protection.TrustedProxies,
			HelloTimeout:   cfg.HelloTimeout, PingInterval: cfg.PingInterval, IdleTimeout: cfg.IdleTimeout,
			WriteTimeout: cfg.WriteTimeout, DialTimeout: cfg.DialTimeout, LeaseBytes: cfg.LeaseBytes,
			UDP: udp.Limits{MaxFlows: cfg.UDPMaxFlows, MaxDatagram: min(cfg.UDPMaxDatagram, wire.MaxDatagramPayload(cfg.MaxFrameSize)), Rate: cfg.UDPRate,
				IdleTimeout: cfg.UDPIdleTimeout, Queued: udpQueued},
		},
		Backend: validator,
		Slots:   validator,
		Policy: upstream.NewPolicy(upstream.PolicyConfig{
			AllowTargets: cfg.AllowTargets, DenyPorts: cfg.DenyPorts, AllowPorts: cfg.AllowPorts,
			DNSTimeout: cfg.DNSTimeout, DNSConcurrency: cfg.DNSConcurrency,
		}, nil),
		Nodes:   s.nodes,
		Outbox:  s.outbox,
		Totals:  totals,
		Metrics: m,
		Log:     log,
	})
	s.heartbeat = accounting.NewHeartbeat(accounting.HeartbeatConfig{
		GatewayID: cfg.GatewayID, BootID: s.boot.BootID, Region: cfg.Region, PublicIP: cfg.PublicIP, InternalIP: cfg.InternalIP,
		Version: Version, Interval: cfg.HeartbeatInterval,
	}, deps.NC, s.sessions.Registry(), totals, m, log.With().Str(logging.FieldComponent, "heartbeat").Logger())
	s.control, err = control.New(control.Config{
		GatewayID: cfg.GatewayID, RevalidateInterval: cfg.RevalidateInterval, Workers: revalidateWorkers, Since: s.boot.BootedAt,
	}, control.Deps{NC: deps.NC, Sessions: s.sessions.Registry(), Nodes: s.nodes, Validator: validator, Registerer: reg,
		Log: log.With().Str(logging.FieldComponent, "control").Logger()})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.app = s.newApp()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen on %s: %w", cfg.Listen, err)
	}
	s.ln = tls.NewListener(corked.Listener{Listener: ln}, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	return s, nil
}

// Addr is the bound listen address (useful with port 0).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// CertFile is the certificate the listener presents, for clients that pin the self-signed one.
func (s *Service) CertFile() string { return s.certFile }

// Run serves until ctx ends, then stops accepting, ends the sessions with GATEWAY_SHUTDOWN,
// publishes the remaining usage and returns, all within the shutdown timeout.
func (s *Service) Run(ctx context.Context) error {
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { s.publisher.AnnounceBoot(bgCtx, s.boot, s.log) })
	bg.Go(func() { s.control.Run(bgCtx) })
	bg.Go(func() { s.publisher.Run(bgCtx) })
	bg.Go(func() { s.heartbeat.Run(bgCtx) })
	bg.Go(func() { s.reportUsage(bgCtx) })
	bg.Go(func() { s.keepSlots(bgCtx, s.backend) })
	bg.Go(func() { s.nodes.RunProbes(bgCtx) })
	bg.Go(func() { s.dialReports.Run(bgCtx) })

	served := make(chan error, 1)
	go func() { served <- s.app.Listener(s.ln) }()
	s.log.Info().Str(logging.FieldAddr, s.Addr()).Str("cert", s.certFile).Msg("gateway listening")
	var serveErr error
	select {
	case serveErr = <-served:
		if serveErr != nil {
			serveErr = fmt.Errorf("gateway: serve: %w", serveErr)
		}
	case <-ctx.Done():
	}
	err := s.shutdown(stopBackground, &bg)
	return errors.Join(serveErr, err)
}

func (s *Service) reportUsage(ctx context.Context) {
	t := time.NewTicker(s.cfg.UsageInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sessions.ReportUsage()
		}
	}
}

func (s *Service) shutdown(stopBackground context.CancelFunc, bg *sync.WaitGroup) error {
	s.log.Info().Msg("gateway shutting down")
	deadline, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.app.ShutdownWithContext(deadline); err != nil {
		errs = append(errs, fmt.Errorf("stop listener: %w", err))
	}
	if err := s.sessions.Drain(deadline); err != nil {
		errs = append(errs, err)
	}
	stopBackground()
	bg.Wait()
	if err := s.publisher.Drain(deadline); err != nil {
		errs = append(errs, err)
	}
	s.heartbeat.Send(schemas.GatewayStatusOffline)
	_ = s.nc.FlushTimeout(time.Until(deadlineOf(deadline)))
	if len(errs) > 0 {
		err := fmt.Errorf("gateway: shutdown: %w", errors.Join(errs...))
		s.log.Error().Err(err).Msg("gateway stopped with errors")
		return err
	}
	s.log.Info().Msg("gateway stopped")
	return nil
}

func deadlineOf(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline()
	return dl
}

// BootID names this run of the gateway process.
func (s *Service) BootID() string { return s.boot.BootID }

// Counts is the number of live sessions and open streams.
func (s *Service) Counts() (sessions, streams int) { return s.sessions.Registry().Counts() }

// MemoryCharged is the memory the gateway's sessions hold for their clients, as charged to
// its budget.
func (s *Service) MemoryCharged() int64 { return s.sessions.MemoryCharged() }
