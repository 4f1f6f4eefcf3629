package edge

import (
	"context"
	"net/http"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go/micro"
)

// Health is the body of GET /api/v1/health.
type Health struct {
	OK        bool            `json:"ok"`
	NATS      bool            `json:"nats"`
	JetStream bool            `json:"jetstream"`
	Services  []ServiceHealth `json:"services"`
}

type ServiceHealth struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (s *Service) health(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.HealthTimeout)
	defer cancel()
	h := Health{NATS: s.nc.IsConnected(), Services: make([]ServiceHealth, len(s.cfg.Services))}
	var wg sync.WaitGroup
	for i, name := range s.cfg.Services {
		wg.Go(func() { h.Services[i] = s.ping(ctx, name) })
	}
	wg.Go(func() {
		_, err := s.js.AccountInfo(ctx)
		h.JetStream = err == nil
	})
	wg.Wait()
	h.OK = h.NATS && h.JetStream
	for _, sh := range h.Services {
		h.OK = h.OK && sh.OK
	}
	status := http.StatusOK
	if !h.OK {
		status = http.StatusServiceUnavailable
	}
	return c.Status(status).JSON(h)
}

func (s *Service) ping(ctx context.Context, name string) ServiceHealth {
	subject, err := micro.ControlSubject(micro.PingVerb, name, "")
	if err != nil {
		return ServiceHealth{Name: name, Error: err.Error()}
	}
	if _, err := s.nc.RequestWithContext(ctx, subject, nil); err != nil {
		return ServiceHealth{Name: name, Error: err.Error()}
	}
	return ServiceHealth{Name: name, OK: true}
}
