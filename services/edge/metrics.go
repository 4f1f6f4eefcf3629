package edge

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	sharedmetrics "github.com/httvps/httvps/shared/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

const unmatchedRoute = "unmatched"

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "httvps", Subsystem: "edge", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "httvps", Subsystem: "edge", Name: "request_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	if err := sharedmetrics.Register(reg, m.requests, m.latency); err != nil {
		return nil, err
	}
	return m, nil
}

// observe answers errors itself so the status is known, and labels by route pattern only.
func (s *Service) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		s.writeError(c, err)
	}
	route := s.routeLabel(c)
	method, ok := knownMethods[c.Method()]
	if !ok {
		method = "OTHER"
	}
	s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().StatusCode())).Inc()
	s.metrics.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	return nil
}

// knownMethods maps fiber's request-scoped method string to a constant label value.
var knownMethods = map[string]string{
	fiber.MethodGet: fiber.MethodGet, fiber.MethodHead: fiber.MethodHead, fiber.MethodPost: fiber.MethodPost,
	fiber.MethodPut: fiber.MethodPut, fiber.MethodPatch: fiber.MethodPatch, fiber.MethodDelete: fiber.MethodDelete,
	fiber.MethodOptions: fiber.MethodOptions,
}

func (s *Service) routeLabel(c *fiber.Ctx) string {
	if r := c.Route(); r != nil {
		if pattern, ok := s.patterns[r.Method+" "+r.Path]; ok {
			return pattern
		}
	}
	return unmatchedRoute
}
