package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"github.com/httvps/httvps/services/gateway/internal/udp"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway/internal/accounting"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// scriptConn is a WebSocket that delivers a script of messages, then the client's end, and
// takes whatever the gateway writes.
type scriptConn struct {
	mu     sync.Mutex
	script []scripted
	closed chan struct{}
	once   sync.Once
}

type scripted struct {
	kind int
	msg  []byte
}

func (c *scriptConn) NextReader() (int, io.Reader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.script) == 0 {
		return 0, nil, io.EOF
	}
	m := c.script[0]
	c.script = c.script[1:]
	return m.kind, bytes.NewReader(m.msg), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }

func (c *scriptConn) NextWriter(int) (io.WriteCloser, error)    { return discard{}, nil }
func (c *scriptConn) WriteMessage(int, []byte) error            { return nil }
func (c *scriptConn) WriteControl(int, []byte, time.Time) error { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error           { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error          { return nil }
func (c *scriptConn) RemoteAddr() net.Addr                      { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *scriptConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }

// fuzzBackend accepts every device and assigns the one node.
type fuzzBackend struct{ node schemas.OutlineAssignment }

func (b fuzzBackend) ValidateDevice(context.Context, schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, *schemas.RPCError) {
	return schemas.ValidateDeviceReply{OK: true, UserID: 1}, nil
}

func (b fuzzBackend) AssignOutline(context.Context, schemas.AssignOutlineRequest) (schemas.OutlineAssignment, *schemas.RPCError) {
	return b.node, nil
}

// sinkNode is a stand-in Outline node on loopback: it takes connections and reads them.
func sinkNode(tb testing.TB) schemas.OutlineAssignment {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			})
		}
	})
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	port := ln.Addr().(*net.TCPAddr).Port
	return schemas.OutlineAssignment{NodeID: 1, InternalIP: "127.0.0.1", SSPort: port, SSMethod: "chacha20-ietf-poly1305", SSPassword: "fuzz"}
}

func fuzzServer(tb testing.TB) *Server {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	log := zerolog.Nop()
	return NewServer(Deps{
		GatewayID: "gw-fuzz",
		Limits: Limits{
			MaxStreams: 8, MaxFrameSize: 4 << 10, Window: 8 << 10, MaxWindow: 32 << 10, SessionWindow: 64 << 10,
			HelloTimeout: time.Second, PingInterval: time.Second, IdleTimeout: 2 * time.Second, WriteTimeout: time.Second,
			DialTimeout: time.Second, SessionMemory: 512 << 10, GatewayMemory: 1 << 20, StreamOpenRate: 1000, StreamOpenBurst: 16,
			UDP: udp.Limits{MaxFlows: 4, MaxDatagram: 1024, Rate: 1000, IdleTimeout: 200 * time.Millisecond, Queued: 16 << 10},
		},
		Backend: fuzzBackend{node: sinkNode(tb)},
		Policy: upstream.NewPolicy(upstream.PolicyConfig{AllowTargets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			DNSTimeout: time.Second, DNSConcurrency: 16}, nil),
		Nodes:   upstream.NewPool(upstream.PoolConfig{DialTimeout: time.Second, NodeAttempts: 1, ProbeInterval: time.Second, ProbeFor: time.Minute, SpareIdle: time.Second}),
		Outbox:  accounting.NewOutbox(1000, m, log),
		Totals:  &accounting.Totals{},
		Metrics: m,
		Log:     log,
	})
}

var fuzzFeatures = []string{schemas.FeatureBinary, schemas.FeatureFlowControl, schemas.FeatureStreamConfirm, schemas.FeatureUDP}

// script turns fuzz bytes into a hello and a sequence of frames of every type, with ids,
// sizes and credits taken from the bytes.
func script(data []byte, target string) []scripted {
	next := func(n int) []byte {
		n = min(n, len(data))
		p := data[:n]
		data = data[n:]
		return p
	}
	b := func() byte {
		if p := next(1); len(p) == 1 {
			return p[0]
		}
		return 0
	}
	var hello schemas.Hello
	hello = schemas.Hello{DeviceID: "fuzz-device", AccessToken: "token", Region: "fuzz-1"}
	mask := b()
	for i, f := range fuzzFeatures {
		if mask&(1<<i) != 0 {
			hello.Features = append(hello.Features, f)
		}
	}
	h, _ := wire.AppendJSON(nil, hello)
	out := []scripted{{textMessage, h}}
	for len(data) > 0 && len(out) < 200 {
		op, id := b(), uint32(b()%12)
		var msg []byte
		kind := textMessage
		switch op % 11 {
		case 0:
			msg, _ = wire.AppendJSON(nil, schemas.StreamOpen{StreamID: id, Target: target})
		case 1:
			msg = wire.AppendStreamDataJSON(nil, id, next(int(b())*8))
		case 2:
			kind, msg = binaryMessage, wire.AppendBinaryStreamData(nil, id, next(int(b())*16))
		case 3:
			msg, _ = wire.AppendJSON(nil, schemas.StreamClose{StreamID: id})
		case 4:
			msg, _ = wire.AppendJSON(nil, schemas.StreamClose{StreamID: id, Code: schemas.CodeUpstreamUnreachable})
		case 5:
			kind, msg = binaryMessage, wire.AppendBinaryStreamWindow(nil, id, binary.BigEndian.Uint32(append(next(4), 0, 0, 0, 0)))
		case 6:
			msg, _ = wire.AppendJSON(nil, schemas.Ping{ID: uint64(id)})
		case 7:
			msg = next(int(b()))
		case 8:
			addr := []string{target, "10.1.2.3:53", "localhost:9"}[b()%3]
			kind = binaryMessage
			msg, _ = wire.AppendBinaryUDPData(nil, id, addr, next(int(b())*8))
		case 9:
			msg, _ = wire.AppendJSON(nil, schemas.UDPClose{FlowID: id})
		default:
			kind, msg = binaryMessage, next(int(b()))
		}
		out = append(out, scripted{kind, msg})
	}
	return out
}

// FuzzSession drives whole sessions with random frame sequences: no panic, nothing left
// running after the end, memory within the budgets while it runs and all of it given back.
func FuzzSession(f *testing.F) {
	seeds := [][]byte{
		{7, 0, 1, 2, 1, 3, 9, 3, 1},
		{1, 0, 2, 2, 2, 10, 5, 2, 0, 0, 1, 0, 4, 2},
		{3, 0, 1, 0, 1, 0, 3, 1, 1, 100, 3, 1},
		{0, 7, 0, 20, 8, 0, 30},
		{5, 0, 4, 1, 4, 255, 6, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	srv := fuzzServer(f)
	target := sinkTarget(f)
	base := runtime.NumGoroutine()
	f.Fuzz(func(t *testing.T, data []byte) {
		conn := &scriptConn{script: script(data, target), closed: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Serve(conn)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the session did not end within 10 s of its script")
		}
		if used := srv.memory.Used(); used != 0 {
			t.Fatalf("%d bytes still charged after the session ended", used)
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base+8 {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines after the session, %d before", runtime.NumGoroutine(), base)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

func sinkTarget(tb testing.TB) string {
	node := sinkNode(tb)
	return net.JoinHostPort(node.InternalIP, strconv.Itoa(node.SSPort))
}
