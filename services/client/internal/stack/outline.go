package stack

import (
	"container/list"
	"context"
	"fmt"
	"net"

	"github.com/Jigsaw-Code/outline-sdk/transport"
	"github.com/Jigsaw-Code/outline-sdk/transport/shadowsocks"
	"github.com/Jigsaw-Code/outline-ss-server/service"
)

// OutlineServer runs outline-ss-server's service in this process on 127.0.0.1, admitting
// loopback targets. Unlike ss-server it passes a client's half-close on to the target, as
// production Outline nodes do. stop closes it.
func OutlineServer() (node Node, stop func(), err error) {
	key, err := shadowsocks.NewEncryptionKey(SSMethod, SSPassword)
	if err != nil {
		return Node{}, nil, fmt.Errorf("outline key: %w", err)
	}
	entry := service.MakeCipherEntry("client-stack", key, SSPassword)
	entries := list.New()
	entries.PushBack(&entry)
	ciphers := service.NewCipherList()
	ciphers.Update(entries)
	handler, _ := service.NewShadowsocksHandlers(service.WithCiphers(ciphers), service.WithStreamDialer(&transport.TCPDialer{}))
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return Node{}, nil, fmt.Errorf("outline listen: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		service.StreamServe(service.WrapStreamAcceptFunc(ln.AcceptTCP), func(ctx context.Context, conn transport.StreamConn) {
			handler.HandleStream(ctx, conn, &service.NoOpTCPConnMetrics{})
		})
	}()
	stop = func() {
		ln.Close()
		<-done
	}
	return Node{IP: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Method: SSMethod, Password: SSPassword, MaxSessions: 100000}, stop, nil
}
