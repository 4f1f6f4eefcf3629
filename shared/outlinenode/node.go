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
}

type Node struct {
	ln   *net.TCPListener
	done chan struct{}
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
	handler, _ := service.NewShadowsocksHandlers(service.WithCiphers(ciphers), service.WithStreamDialer(&transport.TCPDialer{}))
	addr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: address %q: %w", cfg.Addr, err)
	}
	ln, err := net.ListenTCP("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("outline node: listen on %s: %w", cfg.Addr, err)
	}
	n := &Node{ln: ln, done: make(chan struct{})}
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
	<-n.done
	return err
}
