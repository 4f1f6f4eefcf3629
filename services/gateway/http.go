package gateway

import (
	"fmt"
	"net/http"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/httvps/httvps/schemas"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// A session's WebSocket keeps only a small read buffer (larger reads bypass it); write
// buffers come from a pool shared by all sessions and are held only while a message is written.
const (
	wsReadBufferSize  = 1 << 10
	wsWriteBufferSize = 32 << 10
)

type health struct {
	Status    string `json:"status"`
	GatewayID string `json:"gateway_id"`
	NATS      string `json:"nats"`
	Sessions  int    `json:"sessions"`
	Streams   int    `json:"streams"`
}

func (s *Service) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "httvps-gateway",
		DisableStartupMessage: true,
		StrictRouting:         true,
		CaseSensitive:         true,
		BodyLimit:             4 << 10,
		ReadTimeout:           s.cfg.HelloTimeout,
		WriteTimeout:          s.cfg.WriteTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		ReduceMemoryUsage:     true,
	})
	app.Get("/ws", func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		return c.Next()
	}, websocket.New(func(c *websocket.Conn) { s.sessions.Serve(c) }, websocket.Config{
		HandshakeTimeout: s.cfg.HelloTimeout,
		ReadBufferSize:   wsReadBufferSize,
		WriteBufferSize:  wsWriteBufferSize,
		WriteBufferPool:  &s.wsWriteBuffers,
		RecoverHandler:   s.recoverSession,
	}))
	app.Get("/healthz", s.healthz)
	if s.cfg.Metrics && s.gatherer != nil {
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})))
	}
	return app
}

func (s *Service) healthz(c *fiber.Ctx) error {
	sessions, streams := s.sessions.Registry().Counts()
	h := health{Status: "ok", GatewayID: s.cfg.GatewayID, NATS: s.nc.Status().String(), Sessions: sessions, Streams: streams}
	status := http.StatusOK
	switch {
	case s.sessions.Draining():
		h.Status, status = schemas.GatewayStatusDraining, http.StatusServiceUnavailable
	case !s.nc.IsConnected():
		h.Status, status = "nats_unavailable", http.StatusServiceUnavailable
	}
	return c.Status(status).JSON(h)
}

func (s *Service) recoverSession(c *websocket.Conn) {
	if r := recover(); r != nil {
		s.log.Error().Str("panic", fmt.Sprint(r)).Msg("session panicked")
		_ = c.Close()
	}
}
