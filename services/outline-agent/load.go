package outlineagent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The outline-ss-server metrics the load is read from.
const (
	metricOpened = "shadowsocks_tcp_connections_opened"
	metricClosed = "shadowsocks_tcp_connections_closed"
	metricBytes  = "shadowsocks_data_bytes"
	labelDir     = "dir"
)

// clientDirections are the bytes between clients (gateways) and the node, both ways.
var clientDirections = map[string]bool{"c>p": true, "c<p": true}

const maxMetricsBody = 8 << 20

type load struct {
	connections int
	bytesPerSec float64
}

// loadReader reads outline-ss-server's metrics and turns the byte counter into a rate.
type loadReader struct {
	url    string
	client *http.Client

	lastBytes float64
	lastAt    time.Time
}

func newLoadReader(url string, timeout time.Duration) *loadReader {
	return &loadReader{url: url, client: &http.Client{Timeout: timeout}}
}

func (r *loadReader) read(ctx context.Context) (load, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return load{}, fmt.Errorf("node metrics %s: %w", r.url, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return load{}, fmt.Errorf("node metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return load{}, fmt.Errorf("node metrics %s: status %s", r.url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, maxMetricsBody))
	if err != nil {
		return load{}, fmt.Errorf("node metrics %s: %w", r.url, err)
	}
	now := time.Now()
	open := sum(families[metricOpened], nil) - sum(families[metricClosed], nil)
	bytes := sum(families[metricBytes], func(m *dto.Metric) bool { return clientDirections[label(m, labelDir)] })
	l := load{connections: max(0, int(open))}
	if !r.lastAt.IsZero() && bytes >= r.lastBytes {
		l.bytesPerSec = (bytes - r.lastBytes) / now.Sub(r.lastAt).Seconds()
	}
	r.lastBytes, r.lastAt = bytes, now
	return l, nil
}

func sum(f *dto.MetricFamily, keep func(*dto.Metric) bool) float64 {
	if f == nil {
		return 0
	}
	var total float64
	for _, m := range f.GetMetric() {
		if keep != nil && !keep(m) {
			continue
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return total
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
