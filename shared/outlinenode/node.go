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
}

// Node serves Shadowsocks TCP and UDP on the same port.
type Node struct {
	ln      *net.TCPListener
	pc      *net.UDPConn
	done    chan struct{}
	udpDone chan struct{}
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
	handler, associations := service.NewShadowsocksHandlers(service.WithCiphers(ciphers), service.WithStreamDialer(&transport.TCPDialer{}))
	associations.SetTargetIPValidator(func(net.IP) error { return nil })
	addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: address %q: %w", cfg.Addr, err)
	}
	ln, err := net.ListenTCP("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: listen on %s: %w", cfg.Addr, err)
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: ln.Addr().(*net.TCPAddr).IP, Port: ln.Addr().(*net.TCPAddr).Port})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("outline node: listen udp on %s: %w", ln.Addr(), err)
	}
	n := &Node{ln: ln, pc: pc, done: make(chan struct{}), udpDone: make(chan struct{})}
	go func() {
		defer close(n.udpDone)
		service.PacketServe(pc, func(ctx context.Context, conn net.Conn) {
			associations.HandleAssociation(ctx, conn, &service.NoOpUDPAssociationMetrics{})
		}, noNATMetrics{})
	}()
	go func() {
		defer close(n.done)
		service.StreamServe(service.WrapStreamAcceptFunc(ln.AcceptTCP), func(ctx context.Context, conn transport.StreamConn) {
			handler.HandleStream(ctx, conn, &service.NoOpTCPConnMetrics{})
		})
	}()
	return n, nil
}

func (n *Node) Addr() *net.TCPAddr { return n.ln.Addr().(*net.TCPAddr) }

func (n *Node) Close() error {
	err := n.ln.Close()
	n.pc.Close()
	<-n.done
	<-n.udpDone
	return err
}

type noNATMetrics struct{}

func (noNATMetrics) AddNATEntry()    {}
func (noNATMetrics) RemoveNATEntry() {}
