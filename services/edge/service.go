// Package edge is the stateless REST edge of HTTVPS: /api/v1 over HTTP becomes NATS requests
// to the owning services and JetStream publishes.
package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/httvps/httvps/shared/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

const Name = "edge"

type Deps struct {
	NC         *nats.Conn
	Log        zerolog.Logger
	Registerer prometheus.Registerer
}

type Service struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	log      zerolog.Logger
	metrics  *metrics
	tokens   tokens
	app      *fiber.App
	ln       net.Listener
	table    []Route
	patterns map[string]string
}

// New builds the edge and binds its listener, so Addr is known before Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if deps.NC == nil || deps.Registerer == nil {
		return nil, errors.New("edge: NC and Registerer are required")
	}
	js, err := jetstream.New(deps.NC)
	if err != nil {
		return nil, fmt.Errorf("edge: jetstream: %w", err)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("edge: metrics: %w", err)
	}
	s := &Service{
		cfg:      cfg,
		nc:       deps.NC,
		js:       js,
		log:      logging.For(deps.Log, Name),
		metrics:  m,
		tokens:   newTokens(cfg.AdminToken, cfg.NodeToken, cfg.AdminReadToken),
		patterns: map[string]string{},
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "httvps-edge",
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.ReadTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		DisableStartupMessage: true,
		StrictRouting:         true,
		CaseSensitive:         true,
		UnescapePath:          true,
		ErrorHandler:          s.errorHandler,
	})
	s.app.Use(s.observe)
	s.table = s.routes()
	for _, r := range s.table {
		s.patterns[r.Method+" "+r.Path] = r.Path
		s.app.Add(r.Method, r.Path, s.tokens.require(r.need), r.handler)
	}
	s.ln, err = listen(cfg)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	return s, nil
}

// Addr is the bound listen address (useful with port 0).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx is done, then shuts the server down within Config.ShutdownTimeout.
func (s *Service) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.app.Listener(s.ln) }()
	s.log.Info().Str(logging.FieldAddr, s.Addr()).Msg("edge listening")
	select {
	case err := <-served:
		return fmt.Errorf("edge: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.app.ShutdownWithContext(sctx)
	// Shutdown only closes listeners the server already serves; closing ours ends a Serve that started late.
	_ = s.ln.Close()
	<-served
	if err != nil {
		return fmt.Errorf("edge: shutdown: %w", err)
	}
	s.log.Info().Msg("edge stopped")
	return nil
}

func (s *Service) errorHandler(c *fiber.Ctx, err error) error {
	s.writeError(c, err)
	return nil
}

func (s *Service) writeError(c *fiber.Ctx, err error) {
	ae := toAPIError(err)
	if ae.status == http.StatusRequestEntityTooLarge {
		ae.rpc.Message = fmt.Sprintf("body: larger than %d bytes", s.cfg.BodyLimit)
	}
	ev := s.log.Debug()
	if ae.status >= http.StatusInternalServerError {
		ev = s.log.Warn()
	}
	ev.Err(err).Str(logging.FieldCode, string(ae.rpc.Code)).Str("route", s.routeLabel(c)).Int("status", ae.status).Msg("request failed")
	if jerr := c.Status(ae.status).JSON(ErrorBody{OK: false, Code: ae.rpc.Code, Error: ae.rpc}); jerr != nil {
		c.Status(http.StatusInternalServerError)
	}
}
