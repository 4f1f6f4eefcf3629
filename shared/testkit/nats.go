package testkit

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type NATSServer struct {
	URL    string
	Server *server.Server
	cfg    natsx.EmbeddedConfig
}

func NATS(tb testing.TB) *NATSServer {
	tb.Helper()
	n := &NATSServer{cfg: natsx.EmbeddedConfig{
		Host:     "127.0.0.1",
		Port:     FreePort(tb),
		StoreDir: tb.TempDir(),
	}}
	n.start(tb)
	tb.Cleanup(n.Shutdown)
	js := n.JetStream(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.DefaultStreams()); err != nil {
		tb.Fatalf("provision jetstream: %v", err)
	}
	return n
}

func (n *NATSServer) start(tb testing.TB) {
	tb.Helper()
	srv, err := natsx.StartEmbedded(n.cfg, 10*time.Second)
	if err != nil {
		tb.Fatalf("start embedded nats: %v", err)
	}
	n.Server = srv
	n.URL = srv.ClientURL()
}

func (n *NATSServer) Shutdown() {
	if n.Server != nil {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
	}
}

func (n *NATSServer) Restart(tb testing.TB) {
	tb.Helper()
	n.Shutdown()
	n.start(tb)
}

func (n *NATSServer) Conn(tb testing.TB) *nats.Conn {
	tb.Helper()
	nc, err := natsx.Connect(context.Background(), natsx.ConnectConfig{URL: n.URL, Name: tb.Name(), ReconnectWait: 50 * time.Millisecond}, Logger(tb))
	if err != nil {
		tb.Fatalf("connect nats: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

func (n *NATSServer) JetStream(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(n.Conn(tb))
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return js
}

func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
