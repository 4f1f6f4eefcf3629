// Package outlinenode runs an Outline Shadowsocks server (outline-ss-server's service package)
// in-process: the demo node of `make run`, and a real node for tests and benchmarks.
package outlinenode

import (
	"container/list"
	"context"
	"fmt"
	"net"

	"github.com/Jigsaw-Code/outline-sdk/transport"
	"github.com/Jigsaw-Code/outline-sdk/transport/shadowsocks"
	"github.com/Jigsaw-Code/outline-ss-server/service"
)

const DefaultMethod = "chacha20-ietf-poly1305"

type Config struct {
	Addr     string
	Method   string
	Password string
	KeyID    string
	// MetricsAddr, when set, serves outline-ss-server's Prometheus metrics (the shadowsocks_*
	// names its binary exports) at http://MetricsAddr/metrics.
	MetricsAddr string
}

type Node struct {
	ln      *net.TCPListener
	done    chan struct{}
	metrics *metricsServer
}

func Start(cfg Config) (*Node, error) {
	if cfg.Method == "" {
		cfg.Method = DefaultMethod
	}
	if cfg.KeyID == "" {
		cfg.KeyID = "httvps"
	}
	key, err := shadowsocks.NewEncryptionKey(cfg.Method, cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("outline node: key: %w", err)
	}
	entry := service.MakeCipherEntry(cfg.KeyID, key, cfg.Password)
	entries := list.New()
	entries.PushBack(&entry)
	ciphers := service.NewCipherList()
	ciphers.Update(entries)
	var ms *metricsServer
	opts := []service.Option{service.WithCiphers(ciphers), service.WithStreamDialer(&transport.TCPDialer{})}
	connMetrics := func(transport.StreamConn) service.TCPConnMetrics { return &service.NoOpTCPConnMetrics{} }
	if cfg.MetricsAddr != "" {
		if ms, err = serveMetrics(cfg.MetricsAddr); err != nil {
			return nil, err
		}
		opts = append(opts, service.WithMetrics(ms.service))
		connMetrics = func(c transport.StreamConn) service.TCPConnMetrics { return ms.service.AddOpenTCPConnection(c) }
	}
	handler, _ := service.NewShadowsocksHandlers(opts...)
	addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: address %q: %w", cfg.Addr, err)
	}
	ln, err := net.ListenTCP("tcp", addr)
	if err != nil {
		ms.close()
		return nil, fmt.Errorf("outline node: listen on %s: %w", cfg.Addr, err)
	}
	n := &Node{ln: ln, done: make(chan struct{}), metrics: ms}
	go func() {
		defer close(n.done)
		service.StreamServe(service.WrapStreamAcceptFunc(ln.AcceptTCP), func(ctx context.Context, conn transport.StreamConn) {
			handler.HandleStream(ctx, conn, connMetrics(conn))
		})
	}()
	return n, nil
}

func (n *Node) Addr() *net.TCPAddr { return n.ln.Addr().(*net.TCPAddr) }

// MetricsURL is where the node's Prometheus metrics are served, or "" without MetricsAddr.
func (n *Node) MetricsURL() string {
	if n.metrics == nil {
		return ""
	}
	return "http://" + n.metrics.ln.Addr().String() + "/metrics"
}

func (n *Node) Close() error {
	err := n.ln.Close()
	<-n.done
	n.metrics.close()
	return err
}
