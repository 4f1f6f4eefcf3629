package outlinenode

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	outlineprom "github.com/Jigsaw-Code/outline-ss-server/prometheus"
	"github.com/Jigsaw-Code/outline-ss-server/service"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsPrefix is what outline-ss-server's binary puts before its metric names.
const metricsPrefix = "shadowsocks_"

type serviceMetrics interface {
	prometheus.Collector
	service.ServiceMetrics
}

type metricsServer struct {
	service serviceMetrics
	ln      net.Listener
	srv     *http.Server
}

func serveMetrics(addr string) (*metricsServer, error) {
	sm, err := outlineprom.NewServiceMetrics(nil)
	if err != nil {
		return nil, fmt.Errorf("outline node: metrics: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := prometheus.WrapRegistererWithPrefix(metricsPrefix, reg).Register(sm); err != nil {
		return nil, fmt.Errorf("outline node: register metrics: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: metrics listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metricsServer{service: sm, ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	return m, nil
}

func (m *metricsServer) close() {
	if m != nil {
		_ = m.srv.Close()
	}
}
