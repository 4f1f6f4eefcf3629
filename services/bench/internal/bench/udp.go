package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/udpecho"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

const (
	nameUDPSS     = "Shadowsocks UDP (ss-local)"
	nameUDPHTTVPS = "HTTVPS UDP, client defaults"
	// udpRateDatagram is the datagram size of the rate row; udpInFlight bounds the unanswered ones.
	udpRateDatagram = 512
	udpInFlight     = 32
	udpRTTDatagram  = 64
	udpLossWait     = 200 * time.Millisecond
)

// UDPResult is one UDP path: echo round trips one datagram at a time, and echoed 512-byte
// datagrams per second with a bounded number in flight.
type UDPResult struct {
	Name, Note string
	RTT        Latency
	Rate       float64
	Sent, Lost int
	Err        error
}

// udpPath relays datagrams to an echo target through a SOCKS5 UDP ASSOCIATE.
type udpPath struct {
	name, note, socks string
}

func (r *Report) udp(name string) (UDPResult, bool) {
	for _, u := range r.UDP {
		if u.Name == name && u.Err == nil {
			return u, true
		}
	}
	return UDPResult{}, false
}

// measureUDP runs the UDP rows: the httvps-client binary's SOCKS5 UDP against ss-local's, both
// to the same ss-server node and the same echo target.
func (r *Report) measureUDP(ctx context.Context, o Options, in *infra) error {
	fmt.Fprintln(o.Progress, "measuring UDP echo through httvps-client and ss-local ...")
	clientBin, err := buildClient(ctx, in.dir)
	if err != nil {
		return err
	}
	gw, ssLocal, err := startGatewayAndSSLocal(ctx, in, append(in.gatewayEnv("udp"), "HTTVPS_GATEWAY_UDP_RATE=10000000"))
	if err != nil {
		return err
	}
	defer gw.stop()
	defer ssLocal.Stop()
	c, err := startHTTVPSClient(ctx, clientBin, gw, in.device, false)
	if err != nil {
		return err
	}
	defer c.Stop()
	echo, stop, err := udpEcho()
	if err != nil {
		return err
	}
	defer stop()
	for _, p := range []udpPath{
		{nameUDPSS, "UDP client → ss-local (SOCKS5 UDP ASSOCIATE) → ss-server → echo target", ssLocal.Addr},
		{nameUDPHTTVPS, "UDP client → `httvps-client` (SOCKS5 UDP ASSOCIATE) → TLS WebSocket → gateway process → ss-server → echo target", c.Addr},
	} {
		res := measureUDPPath(ctx, p, echo, r.Settings)
		if res.Err != nil {
			fmt.Fprintf(o.Progress, "  %s failed: %v\n", p.name, res.Err)
		} else {
			fmt.Fprintf(o.Progress, "  %s: round trip median %s p99 %s, %.0f datagrams/s of %d bytes (%d lost of %d)\n",
				p.name, res.RTT.Median, res.RTT.P99, res.Rate, udpRateDatagram, res.Lost, res.Sent)
		}
		r.UDP = append(r.UDP, res)
	}
	return nil
}

func measureUDPPath(ctx context.Context, p udpPath, echo netip.AddrPort, s Settings) UDPResult {
	res := UDPResult{Name: p.name, Note: p.note}
	ctrl, relay, err := udpAssociate(ctx, p.socks)
	if err != nil {
		res.Err = err
		return res
	}
	defer ctrl.Close()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		res.Err = err
		return res
	}
	defer pc.Close()
	u := &udpProbe{pc: pc, relay: relay, target: echo, buf: make([]byte, 2048)}
	if res.RTT, err = u.roundTrips(ctx, s.TTFBSamples*5, s.TTFBBudget); err != nil {
		res.Err = err
		return res
	}
	res.Rate, res.Sent, res.Lost, res.Err = u.rate(ctx, s.Warmup, s.Window)
	return res
}

type udpProbe struct {
	pc     *net.UDPConn
	relay  netip.AddrPort
	target netip.AddrPort
	buf    []byte
	seq    uint32
}

func (u *udpProbe) send(size int) error {
	u.seq++
	msg := append([]byte{0, 0, 0, 1}, u.target.Addr().AsSlice()...)
	msg = binary.BigEndian.AppendUint16(msg, u.target.Port())
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, u.seq)
	_, err := u.pc.WriteToUDPAddrPort(append(msg, p...), u.relay)
	return err
}

// recv returns the sequence number of the next echo; ok is false when none came in the wait.
func (u *udpProbe) recv(wait time.Duration) (uint32, bool, error) {
	_ = u.pc.SetReadDeadline(time.Now().Add(wait))
	n, err := u.pc.Read(u.buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if n < 10+4 {
		return 0, false, fmt.Errorf("an echo of %d bytes", n)
	}
	return binary.BigEndian.Uint32(u.buf[10:]), true, nil
}

func (u *udpProbe) roundTrips(ctx context.Context, n int, budget time.Duration) (Latency, error) {
	var samples []time.Duration
	deadline := time.Now().Add(budget)
	for range n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		start := time.Now()
		if err := u.send(udpRTTDatagram); err != nil {
			return Latency{}, err
		}
		want := u.seq
		for {
			got, ok, err := u.recv(time.Second)
			if err != nil {
				return Latency{}, err
			}
			if !ok || got == want {
				if ok {
					samples = append(samples, time.Since(start))
				}
				break
			}
		}
	}
	if len(samples) == 0 {
		return Latency{}, errors.New("no datagram came back")
	}
	return summarize(samples), nil
}

// rate keeps udpInFlight datagrams unanswered and counts the echoes of the window; a pause of
// udpLossWait without an echo counts the unanswered ones as lost.
func (u *udpProbe) rate(ctx context.Context, warmup, window time.Duration) (float64, int, int, error) {
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+window)
	inFlight, echoed, sent, lost := 0, 0, 0, 0
	for time.Now().Before(end) && ctx.Err() == nil {
		for inFlight < udpInFlight {
			if err := u.send(udpRateDatagram); err != nil {
				return 0, sent, lost, err
			}
			inFlight++
			if time.Now().After(measureFrom) {
				sent++
			}
		}
		_, ok, err := u.recv(udpLossWait)
		if err != nil {
			return 0, sent, lost, err
		}
		if !ok {
			if time.Now().After(measureFrom) {
				lost += inFlight
			}
			inFlight = 0
			continue
		}
		inFlight--
		if time.Now().After(measureFrom) {
			echoed++
		}
	}
	return float64(echoed) / window.Seconds(), sent, lost, nil
}

// udpAssociate asks the SOCKS5 proxy for a UDP relay; the association lives as long as ctrl.
func udpAssociate(ctx context.Context, proxy string) (net.Conn, netip.AddrPort, error) {
	c, err := tcpDial(ctx, proxy)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	reply := make([]byte, 12)
	_, err = c.Write([]byte{5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0})
	if err == nil {
		_, err = io.ReadFull(c, reply)
	}
	if err == nil && (reply[1] != 0 || reply[3] != 0 || reply[5] != 1) {
		err = fmt.Errorf("UDP ASSOCIATE answered % x", reply)
	}
	if err != nil {
		c.Close()
		return nil, netip.AddrPort{}, fmt.Errorf("socks5 udp via %s: %w", proxy, err)
	}
	_ = c.SetDeadline(time.Time{})
	ip := netip.AddrFrom4([4]byte(reply[6:10]))
	if ip.IsUnspecified() {
		ip = netip.MustParseAddr("127.0.0.1")
	}
	return c, netip.AddrPortFrom(ip, binary.BigEndian.Uint16(reply[10:])), nil
}

// udpEcho is the UDP echo target in the benchmark process.
func udpEcho() (netip.AddrPort, func(), error) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return netip.AddrPort{}, nil, err
	}
	go udpecho.Serve(pc, nil)
	return pc.LocalAddr().(*net.UDPAddr).AddrPort(), func() { pc.Close() }, nil
}

func (r *Report) udpMarkdown(w func(string, ...any)) {
	w("\n## UDP through the tunnel\n\n")
	w("One UDP association per path to an echo target in the benchmark process, through the same ss-server node. ")
	w("Round trip: one %d-byte datagram at a time; rate: %d-byte datagrams with at most %d unanswered, echoes counted over %s after %s of warm-up ", udpRTTDatagram, udpRateDatagram, udpInFlight, r.Window, r.Warmup)
	w("(a pause of %s without an echo counts the unanswered ones as lost). The gateway's per-session rate cap is raised for this run.\n\n", udpLossWait)
	if r.UDPErr != nil {
		w("Not measured: %s\n\n", oneLine(r.UDPErr))
	}
	if len(r.UDP) == 0 {
		return
	}
	w("| path | round trip median | p99 | datagrams/s (512 B) | lost |\n|---|---:|---:|---:|---:|\n")
	for _, u := range r.UDP {
		if u.Err != nil {
			w("| %s | failed: %s | | | |\n", u.Name, oneLine(u.Err))
			continue
		}
		w("| %s | %s | %s | %.0f | %d of %d |\n", u.Name, round(u.RTT.Median), round(u.RTT.P99), u.Rate, u.Lost, u.Sent)
	}
	w("\nPaths:\n\n")
	for _, u := range r.UDP {
		w("- **%s**: %s\n", u.Name, u.Note)
	}
}

func udpGoals(r *Report) []Goal {
	h, okH := r.udp(nameUDPHTTVPS)
	s, okS := r.udp(nameUDPSS)
	rtt := Goal{Name: "UDP echo round trip median ≤ 2× the plain Shadowsocks UDP hop's", Target: "≤ 2.00×"}
	rate := Goal{Name: "UDP datagrams/s of 512 bytes ≥ 0.5× the plain Shadowsocks UDP hop's", Target: "≥ 0.50×"}
	if okH && okS && s.RTT.Median > 0 {
		q := float64(h.RTT.Median) / float64(s.RTT.Median)
		rtt.Known, rtt.Met = true, q <= 2
		rtt.Measured = fmt.Sprintf("%.2f× (%s vs %s)", q, round(h.RTT.Median), round(s.RTT.Median))
		rtt.Limits = "two more processes than ss-local's path (the client and the gateway, one goroutine per direction in each, no hand-off inside them): each of their four wake-ups pays a system call that wakes the next process, the Go runtime's wake-up of its sleeping sysmon thread on the first system call (10-20% of the round trip in interleaved runs with and without GODEBUG=schedtrace, which keeps sysmon awake), a TLS record, and in the gateway the Shadowsocks UDP key derivation and salt filter of every packet"
	}
	if okH && okS && s.Rate > 0 {
		q := h.Rate / s.Rate
		rate.Known, rate.Met = true, q >= 0.5
		rate.Measured = fmt.Sprintf("%.2f× (%.0f vs %.0f datagrams/s)", q, h.Rate, s.Rate)
		rate.Limits = "each datagram is one WebSocket message and one UDP system call at the client, the gateway and the node"
	}
	return []Goal{rtt, rate}
}
