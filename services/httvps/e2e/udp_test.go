package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/udpecho"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/shared/testkit"
)

const (
	udpFlowCap = 4
	udpIdle    = 3 * time.Second
	// udpInFlight keeps the echo test within outline-ss-server's per-association queue of 5.
	udpInFlight = 4
	udpLossWait = time.Second
)

var (
	udpSizes = []int{4, 5, 64, 512, 1200, 1472, 4096, 9000, 16384}
	// libevSizes stay within ss-server's UDP buffer (twice its 1397-byte default packet size).
	libevSizes = []int{4, 5, 64, 512, 1200, 1397}
)

// udpEcho is a UDP server on 127.0.0.1 that sends every datagram back to its sender.
func udpEcho(t *testing.T) string {
	t.Helper()
	return udpServer(t, nil)
}

func udpServer(t *testing.T, answer func([]byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go udpecho.Serve(pc, answer)
	return pc.LocalAddr().String()
}

func udpConfig(e *env, binary bool, region string) client.Config {
	cfg := e.config(e.device, binary)
	cfg.UDP = true
	cfg.Region = region
	return cfg
}

// echoDatagrams sends n datagrams of mixed sizes, at most udpInFlight unanswered, and checks
// every reply byte for byte; it returns the bytes sent and received and the datagrams lost.
func echoDatagrams(t *testing.T, c *client.UDPConn, target string, n int, sizes []int) (sent, received, lost int) {
	t.Helper()
	want := map[uint32][]byte{}
	buf := make([]byte, 64<<10)
	next := 0
	for next < n || len(want) > 0 {
		for next < n && len(want) < udpInFlight {
			p := blob(uint64(next), sizes[next%len(sizes)])
			binary.BigEndian.PutUint32(p, uint32(next))
			if _, err := c.WriteTo(p, client.UDPAddr(target)); err != nil {
				t.Fatalf("datagram %d: %v", next, err)
			}
			want[uint32(next)], sent, next = p, sent+len(p), next+1
		}
		_ = c.SetReadDeadline(time.Now().Add(udpLossWait))
		m, _, err := c.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			lost += len(want)
			clear(want)
			continue
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if m < 4 {
			t.Fatalf("a reply of %d bytes", m)
		}
		seq := binary.BigEndian.Uint32(buf)
		p, ok := want[seq]
		if !ok {
			continue
		}
		if !bytes.Equal(buf[:m], p) {
			t.Fatalf("datagram %d came back different: %d bytes, sent %d", seq, m, len(p))
		}
		delete(want, seq)
		received += m
	}
	return sent, received, lost
}

func TestUDPThroughTheRealGateway(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) {
		c.UDPMaxFlows = udpFlowCap
		c.UDPIdleTimeout = udpIdle
	})
	echo := udpEcho(t)

	for _, node := range []struct {
		name, region string
		sizes        []int
	}{{"ss-server", region, libevSizes}, {"outline-ss-server", outlineRegion, udpSizes}} {
		for _, m := range modes {
			t.Run("1000 datagrams/"+node.name+"/"+m.name, func(t *testing.T) {
				s := e.dial(t, udpConfig(e, m.binary, node.region))
				if !s.UDP() {
					t.Fatalf("the gateway did not accept udp: features %v", s.Features())
				}
				c, err := s.ListenUDP(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				sent, received, lost := echoDatagrams(t, c, echo, 1000, node.sizes)
				t.Logf("%s %s: 1000 datagrams, %d bytes sent, %d echoed, %d lost", node.name, m.name, sent, received, lost)
				if lost > 10 {
					t.Fatalf("%d of 1000 datagrams lost on loopback", lost)
				}
			})
		}
	}

	t.Run("dns query through socks5 udp associate", func(t *testing.T) {
		dns := udpServer(t, dnsAnswer)
		app := newSOCKSApp(t, e)
		query := dnsQuery(0xBEEF, "probe.example")
		src, answer := app.roundTrip(t, netip.MustParseAddrPort(dns), query)
		if src.String() != dns || !bytes.Equal(answer, dnsAnswer(query)) {
			t.Fatalf("answer from %s: % x", src, answer)
		}
	})

	t.Run("replies from several sources through one socks5 udp association", func(t *testing.T) {
		echoes := []string{udpEcho(t), udpEcho(t), udpEcho(t)}
		app := newSOCKSApp(t, e)
		for i := range 9 {
			dst := netip.MustParseAddrPort(echoes[i%len(echoes)])
			p := []byte(fmt.Sprintf("datagram %d", i))
			if src, echo := app.roundTrip(t, dst, p); src != dst || !bytes.Equal(echo, p) {
				t.Fatalf("datagram %d to %s: echo %q from %s", i, dst, echo, src)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		s := e.dial(t, udpConfig(e, true, region))
		c, err := s.ListenUDP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.WriteTo([]byte("x"), client.UDPAddr("10.1.2.3:53")); err != nil {
			t.Fatal(err)
		}
		checkFlowError(t, c, schemas.CodeTargetForbidden, "")
		if _, err := c.WriteTo([]byte("x"), client.UDPAddr("no-such-host.invalid:53")); err != nil {
			t.Fatal(err)
		}
		checkFlowError(t, c, schemas.CodeUpstreamUnreachable, "")
		_, err = c.WriteTo(make([]byte, s.Limits().MaxDatagram+1), client.UDPAddr(echo))
		if ge, ok := client.AsGatewayError(err); !ok || ge.Limit != schemas.LimitDatagram {
			t.Fatalf("oversize datagram: %v, want LIMIT_REACHED datagram_size", err)
		}
		if _, _, lost := echoDatagrams(t, c, echo, 10, libevSizes); lost != 0 {
			t.Fatalf("the flow lost %d datagrams after its refusals", lost)
		}
	})

	t.Run("flow cap", func(t *testing.T) {
		s := e.dial(t, udpConfig(e, true, region))
		var flows []*client.UDPConn
		for range udpFlowCap {
			c, err := s.ListenUDP(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, _, lost := echoDatagrams(t, c, echo, 1, libevSizes); lost != 0 {
				t.Fatal("a flow within the cap lost its datagram")
			}
			flows = append(flows, c)
		}
		extra, err := s.ListenUDP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := extra.WriteTo([]byte("one too many"), client.UDPAddr(echo)); err != nil {
			t.Fatal(err)
		}
		checkFlowError(t, extra, schemas.CodeLimitReached, schemas.LimitFlows)
		flows[0].Close()
		again, err := s.ListenUDP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		testkit.Eventually(t, 10*time.Second, "a closed flow frees its slot", func() bool {
			_, _, lost := echoDatagramsQuiet(again, echo)
			return lost == 0
		})
	})

	t.Run("idle flow closed", func(t *testing.T) {
		s := e.dial(t, udpConfig(e, false, region))
		if got := time.Duration(s.Limits().UDPIdleMS) * time.Millisecond; got != udpIdle {
			t.Fatalf("hello_ok udp_idle_timeout_ms %s, want %s", got, udpIdle)
		}
		c, err := s.ListenUDP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, lost := echoDatagrams(t, c, echo, 1, libevSizes); lost != 0 {
			t.Fatal("datagram lost")
		}
		checkFlowError(t, c, schemas.CodeIdleTimeout, "")
		if _, err := c.WriteTo([]byte("late"), client.UDPAddr(echo)); err == nil {
			t.Fatal("WriteTo on a flow the gateway closed succeeded")
		}
	})

	t.Run("usage in postgres equals the datagram bytes", func(t *testing.T) {
		d := e.subscriber(t)
		cfg := udpConfig(e, true, region)
		cfg.DeviceID, cfg.Token = d.DeviceUUID, d.Token
		s, err := client.DialLogger(context.Background(), cfg, e.log)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.ListenUDP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sent, received, lost := echoDatagrams(t, c, echo, 200, libevSizes)
		if lost != 0 {
			t.Fatalf("%d datagrams lost; the usage check needs all", lost)
		}
		_ = s.Close()
		var up, down int64
		testkit.Eventually(t, 20*time.Second, "the session's final usage in PostgreSQL", func() bool {
			err := e.sys.DB().QueryRowContext(context.Background(), `SELECT bytes_up, bytes_down FROM sessions WHERE id = ? AND ended_at IS NOT NULL`, s.ID()).Scan(&up, &down)
			return err == nil
		})
		if up != int64(sent) || down != int64(received) {
			t.Fatalf("usage up %d down %d, datagram bytes sent %d received %d", up, down, sent, received)
		}
	})
}

func echoDatagramsQuiet(c *client.UDPConn, target string) (sent, received, lost int) {
	if _, err := c.WriteTo([]byte("slot"), client.UDPAddr(target)); err != nil {
		return 0, 0, 1
	}
	_ = c.SetReadDeadline(time.Now().Add(udpLossWait))
	buf := make([]byte, 64)
	if n, _, err := c.ReadFrom(buf); err != nil || string(buf[:n]) != "slot" {
		return 4, 0, 1
	}
	return 4, 4, 0
}

func checkFlowError(t *testing.T, c *client.UDPConn, code schemas.ErrorCode, limit schemas.LimitKind) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		_, _, err := c.ReadFrom(buf)
		if err == nil {
			continue
		}
		ge, ok := client.AsGatewayError(err)
		if !ok || ge.Code != code || ge.Limit != limit || ge.FlowID != c.ID() {
			t.Fatalf("flow %d: %v, want %s %s for the flow", c.ID(), err, code, limit)
		}
		return
	}
}

// socksAssociate asks the SOCKS server for UDP ASSOCIATE and returns the control connection
// and the relay address.
// socksApp is an application speaking SOCKS5 UDP through a tunnel of its own.
type socksApp struct {
	pc    net.PacketConn
	relay netip.AddrPort
	buf   []byte
}

func newSOCKSApp(t *testing.T, e *env) *socksApp {
	t.Helper()
	_, socksAddr, _ := runTunnel(t, udpConfig(e, true, region), e.log)
	ctrl, relay := socksAssociate(t, socksAddr)
	t.Cleanup(func() { ctrl.Close() })
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &socksApp{pc: pc, relay: relay, buf: make([]byte, 2048)}
}

// roundTrip sends p to dst through the relay and returns the reply's source and data.
func (a *socksApp) roundTrip(t *testing.T, dst netip.AddrPort, p []byte) (netip.AddrPort, []byte) {
	t.Helper()
	if _, err := a.pc.WriteTo(socksUDP(dst, p), net.UDPAddrFromAddrPort(a.relay)); err != nil {
		t.Fatal(err)
	}
	_ = a.pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := a.pc.ReadFrom(a.buf)
	if err != nil {
		t.Fatalf("no reply from %s through the tunnel: %v", dst, err)
	}
	if n < 10 || a.buf[3] != 1 {
		t.Fatalf("SOCKS UDP reply % x", a.buf[:n])
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(a.buf[4:8])), binary.BigEndian.Uint16(a.buf[8:10]))
	return src, a.buf[10:n]
}

func socksAssociate(t *testing.T, socksAddr string) (net.Conn, netip.AddrPort) {
	t.Helper()
	c, err := net.DialTimeout("tcp", socksAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	msg := []byte{5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 2+10)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	if reply[1] != 0 || reply[3] != 0 || reply[5] != 1 {
		t.Fatalf("UDP ASSOCIATE answered % x", reply)
	}
	ip := netip.AddrFrom4([4]byte(reply[6:10]))
	port := binary.BigEndian.Uint16(reply[10:12])
	_ = c.SetDeadline(time.Time{})
	return c, netip.AddrPortFrom(ip, port)
}

// socksUDP is a SOCKS5 UDP request (RFC 1928 section 7) for an IPv4 destination.
func socksUDP(dst netip.AddrPort, data []byte) []byte {
	b := append([]byte{0, 0, 0, 1}, dst.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	return append(b, data...)
}

// dnsQuery is a DNS query for an A record of name.
func dnsQuery(id uint16, name string) []byte {
	q := binary.BigEndian.AppendUint16(nil, id)
	q = append(q, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, label := range bytes.Split([]byte(name), []byte(".")) {
		q = append(append(q, byte(len(label))), label...)
	}
	return append(q, 0, 0, 1, 0, 1)
}

// dnsAnswer is the tiny responder: every A question gets 192.0.2.1 with a TTL of 60.
func dnsAnswer(query []byte) []byte {
	if len(query) < 12 {
		return nil
	}
	a := append([]byte(nil), query...)
	a[2], a[3] = 0x81, 0x80
	a[6], a[7] = 0, 1
	return append(a, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1)
}
