package outlineagent_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	"github.com/httvps/httvps/shared/outlinenode"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/shadowsocks/go-shadowsocks2/core"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

const (
	method   = "chacha20-ietf-poly1305"
	password = "agent-test-secret"
	nodeID   = 7
)

// probeTarget is an HTTP server, the agent's probe target.
func probeTarget(tb testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	tb.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func outlineNode(tb testing.TB, metrics bool) *outlinenode.Node {
	tb.Helper()
	cfg := outlinenode.Config{Addr: "127.0.0.1:0", Method: method, Password: password}
	if metrics {
		cfg.MetricsAddr = "127.0.0.1:0"
	}
	n, err := outlinenode.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.Close() })
	return n
}

// ssServer runs shadowsocks-libev's ss-server as its own process with the given password.
func ssServer(tb testing.TB, pass string) string {
	return testkit.StartSSServer(tb, method, pass).Addr()
}

func agentConfig(nodeAddr, target string) outlineagent.Config {
	cfg := outlineagent.DefaultConfig()
	cfg.NodeID, cfg.NodeAddr, cfg.NodePassword, cfg.ProbeTarget = nodeID, nodeAddr, password, target
	cfg.Interval, cfg.ProbeTimeout, cfg.Failures = 300*time.Millisecond, 250*time.Millisecond, 1
	return cfg
}

// heartbeats runs an agent and collects what it publishes.
type heartbeats struct {
	mu   sync.Mutex
	seen []schemas.OutlineHeartbeat
}

func runAgent(tb testing.TB, cfg outlineagent.Config) *heartbeats {
	tb.Helper()
	srv := testkit.NATS(tb)
	hbs := &heartbeats{}
	sub, err := srv.Conn(tb).Subscribe(schemas.OutlineHeartbeatSubject(cfg.NodeID), func(m *nats.Msg) {
		var hb schemas.OutlineHeartbeat
		if json.Unmarshal(m.Data, &hb) == nil {
			hbs.mu.Lock()
			hbs.seen = append(hbs.seen, hb)
			hbs.mu.Unlock()
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Unsubscribe() })
	agent, err := outlineagent.New(cfg, outlineagent.Deps{NC: srv.Conn(tb), Log: testkit.Logger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = agent.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return hbs
}

// wait polls for a heartbeat that satisfies ok.
func (h *heartbeats) wait(tb testing.TB, what string, ok func(schemas.OutlineHeartbeat) bool) schemas.OutlineHeartbeat {
	tb.Helper()
	var found schemas.OutlineHeartbeat
	testkit.Eventually(tb, 10*time.Second, what, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, hb := range h.seen {
			if ok(hb) {
				found = hb
				return true
			}
		}
		return false
	})
	return found
}

// openStreams holds n Shadowsocks connections through the node to an echo target and moves
// size bytes over each.
func openStreams(tb testing.TB, nodeAddr string, n, size int) {
	tb.Helper()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { echo.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	cipher, err := core.PickCipher(method, nil, password)
	if err != nil {
		tb.Fatal(err)
	}
	for range n {
		raw, err := net.Dial("tcp", nodeAddr)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { raw.Close() })
		c := cipher.StreamConn(raw)
		payload := make([]byte, size)
		if _, err := c.Write(append(socks.ParseAddr(echo.Addr().String()), payload...)); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadFull(c, payload); err != nil {
			tb.Fatal(err)
		}
	}
}

func outlineNodeWithPassword(tb testing.TB, pass string) string {
	tb.Helper()
	n, err := outlinenode.Start(outlinenode.Config{Addr: "127.0.0.1:0", Method: method, Password: pass})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.Close() })
	return n.Addr().String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(tb)))
}
