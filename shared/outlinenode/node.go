// Package outlinenode runs an Outline Shadowsocks server (outline-ss-server's service package)
// in-process, TCP and UDP: the demo node of `make run`, and a real node for tests and benchmarks.
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

// Node serves Shadowsocks TCP and UDP on the same port.
type Node struct {
	ln      *net.TCPListener
	pc      *net.UDPConn
	done    chan struct{}
	udpDone chan struct{}
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
	assocMetrics := func(net.Conn) service.UDPAssociationMetrics { return &service.NoOpUDPAssociationMetrics{} }
	if cfg.MetricsAddr != "" {
		if ms, err = serveMetrics(cfg.MetricsAddr); err != nil {
			return nil, err
		}
		opts = append(opts, service.WithMetrics(ms.service))
		connMetrics = func(c transport.StreamConn) service.TCPConnMetrics { return ms.service.AddOpenTCPConnection(c) }
		assocMetrics = func(c net.Conn) service.UDPAssociationMetrics { return ms.service.AddOpenUDPAssociation(c) }
	}
	handler, associations := service.NewShadowsocksHandlers(opts...)
	associations.SetTargetIPValidator(func(net.IP) error { return nil })
	addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: address %q: %w", cfg.Addr, err)
	}
	ln, err := net.ListenTCP("tcp", addr)
	if err != nil {
		ms.close()
		return nil, fmt.Errorf("outline node: listen on %s: %w", cfg.Addr, err)
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: ln.Addr().(*net.TCPAddr).IP, Port: ln.Addr().(*net.TCPAddr).Port})
	if err != nil {
		ln.Close()
		ms.close()
		return nil, fmt.Errorf("outline node: listen udp on %s: %w", ln.Addr(), err)
	}
	n := &Node{ln: ln, pc: pc, done: make(chan struct{}), udpDone: make(chan struct{}), metrics: ms}
	go func() {
		defer close(n.udpDone)
		service.PacketServe(pc, func(ctx context.Context, conn net.Conn) {
			associations.HandleAssociation(ctx, conn, assocMetrics(conn))
		}, noNATMetrics{})
	}()
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
	n.pc.Close()
	<-n.done
	<-n.udpDone
	n.metrics.close()
	return err
}

type noNATMetrics struct{}

func (noNATMetrics) AddNATEntry()    {}
func (noNATMetrics) RemoveNATEntry() {}
