package testkit

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy relays TCP connections from a loopback port to a target. Cut drops every connection
// and refuses new ones until Restore, the way a broken link looks to both ends. With DropAcks
// it reads the NATS client protocol and swallows the publishes to $JS.ACK.>, as if the client
// died right after it decided to acknowledge.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	dropAcks atomic.Bool

	droppedMu sync.Mutex
	dropped   map[string]int64

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}, dropped: map[string]int64{}}
	go p.accept()
	tb.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
	})
	return p
}

// URL is the proxy as a NATS URL.
func (p *Proxy) URL() string { return "nats://" + p.Addr }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func (p *Proxy) relay(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		if p.dropAcks.Load() {
			p.filterAcks(server, client)
		} else {
			_, _ = io.Copy(server, client)
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, server)
		done <- struct{}{}
	}()
	<-done
	client.Close()
	server.Close()
	p.untrack(client, server)
}

var jsAckPrefix = []byte("$JS.ACK.")

// filterAcks copies the client's protocol lines, leaving out PUB and HPUB to $JS.ACK.>.
func (p *Proxy) filterAcks(dst io.Writer, src io.Reader) {
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		fields := bytes.Fields(line)
		var payload int
		if len(fields) >= 3 && (bytes.EqualFold(fields[0], []byte("PUB")) || bytes.EqualFold(fields[0], []byte("HPUB"))) {
			payload, _ = strconv.Atoi(string(fields[len(fields)-1]))
			payload += 2
		}
		drop := payload > 0 && bytes.HasPrefix(fields[1], jsAckPrefix)
		if !drop {
			if _, err := dst.Write(line); err != nil {
				return
			}
		}
		if payload == 0 {
			continue
		}
		body := make([]byte, payload)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if drop {
			p.countDropped(fields[1])
			continue
		}
		if _, err := dst.Write(body); err != nil {
			return
		}
	}
}

// DropAcks makes connections opened from now on lose their JetStream acks.
func (p *Proxy) DropAcks() { p.dropAcks.Store(true) }

// countDropped counts a swallowed ack under its stream ($JS.ACK.<stream>.<consumer>...).
func (p *Proxy) countDropped(subject []byte) {
	stream, _, _ := strings.Cut(strings.TrimPrefix(string(subject), string(jsAckPrefix)), ".")
	p.droppedMu.Lock()
	p.dropped[stream]++
	p.droppedMu.Unlock()
}

// DroppedAcks is how many acks of the stream's consumers were swallowed.
func (p *Proxy) DroppedAcks(stream string) int64 {
	p.droppedMu.Lock()
	defer p.droppedMu.Unlock()
	return p.dropped[stream]
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// Cut closes every relayed connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Proxies are one proxy per cluster node, for a client that must lose all of them at once.
type Proxies []*Proxy

// ProxyCluster puts a proxy in front of every node.
func ProxyCluster(tb testing.TB, c *NATSCluster) Proxies {
	tb.Helper()
	var ps Proxies
	for _, n := range c.Nodes {
		ps = append(ps, StartProxy(tb, n.HostPort()))
	}
	return ps
}

// URLs lists the proxies' URLs from first on.
func (ps Proxies) URLs(first int) string {
	var out []string
	for i := range ps {
		out = append(out, ps[(first+i)%len(ps)].URL())
	}
	return strings.Join(out, ",")
}

func (ps Proxies) Cut() {
	for _, p := range ps {
		p.Cut()
	}
}

func (ps Proxies) Restore() {
	for _, p := range ps {
		p.Restore()
	}
}
