package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
)

// Preface is the gateway's cost of connections that upgrade to WebSocket, send the first
// bytes of a text frame and then nothing, until the hello timeout closes them.
type Preface struct {
	Conns int
	// HeapStack is bytes per connection: the growth over the gateway before, divided by Conns.
	HeapStack  float64
	Goroutines float64
	Opened     time.Duration
	// Closed counts the connections the gateway closed within the hello timeout plus 10 s
	// after the last one opened, ClosedIn when the last of them closed (from the last open);
	// TimedOut is the gateway's HELLO_TIMEOUT handshakes counter.
	Closed       int
	TimedOut     int
	ClosedIn     time.Duration
	HelloTimeout time.Duration
	DialRetries  int
	// Sites are the allocation sites that grew most, in bytes per connection.
	Sites []SiteCost
}

// prefaceDialAttempts is how often a connection is dialed before the scenario gives up: on a
// loaded machine a SYN is sometimes dropped and the dial times out.
const prefaceDialAttempts = 3

// textFrameHeader is a masked client text frame announcing 4096 bytes, without them.
var textFrameHeader = []byte{0x81, 0xFE, 0x10, 0x00, 0x12, 0x34, 0x56, 0x78}

func measurePreface(ctx context.Context, gw *gatewayChild, s AbuseSettings) (Preface, error) {
	n := s.PrefaceConns
	base, err := gw.mem()
	if err != nil {
		return Preface{}, fmt.Errorf("gateway memory: %w", err)
	}
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	addr := strings.TrimSuffix(strings.TrimPrefix(gw.URL, "wss://"), "/ws")
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, s.HelloTimeout)
	defer cancel()
	var retries atomic.Int64
	if err := inParallel(dctx, n, "connection", func(i int) error {
		c, err := upgradeAndStall(dctx, addr, &retries)
		conns[i] = c
		return err
	}); err != nil {
		return Preface{}, err
	}
	openedAt := time.Now()
	opened := openedAt.Sub(start)
	if dctx.Err() != nil || opened >= s.HelloTimeout {
		return Preface{}, fmt.Errorf("%d connections not open within the hello timeout %s", n, s.HelloTimeout)
	}
	after, err := gw.mem()
	if err != nil {
		return Preface{}, fmt.Errorf("gateway memory: %w", err)
	}
	closed, closedIn := awaitClosed(ctx, conns, openedAt, openedAt.Add(s.HelloTimeout+10*time.Second))
	end, err := gw.mem()
	if err != nil {
		return Preface{}, fmt.Errorf("gateway memory: %w", err)
	}
	timedOut := end.counter("handshakes_total", label("result", string(schemas.CodeHelloTimeout))) -
		base.counter("handshakes_total", label("result", string(schemas.CodeHelloTimeout)))
	return Preface{
		Conns:        n,
		HeapStack:    (float64(after.HeapInuse+after.StackInuse) - float64(base.HeapInuse+base.StackInuse)) / float64(n),
		Goroutines:   float64(after.Goroutines-base.Goroutines) / float64(n),
		Opened:       opened,
		Closed:       closed,
		TimedOut:     int(timedOut),
		ClosedIn:     closedIn,
		HelloTimeout: s.HelloTimeout,
		Sites:        topSites(base.Sites, after.Sites, n, 6),
		DialRetries:  int(retries.Load()),
	}, nil
}

// upgradeAndStall does the TLS handshake and the WebSocket upgrade, then sends one frame
// header and nothing more.
func upgradeAndStall(ctx context.Context, addr string, retries *atomic.Int64) (net.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: dialTimeout}, Config: &tls.Config{InsecureSkipVerify: true}}
	c, err := d.DialContext(ctx, "tcp", addr)
	for attempt := 1; err != nil && attempt < prefaceDialAttempts && ctx.Err() == nil; attempt++ {
		retries.Add(1)
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("upgrade answered %s", resp.Status)
	}
	if _, err := c.Write(textFrameHeader); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// awaitClosed reads every connection until the gateway closes it, at most until deadline; it
// returns how many it closed and when the last one closed, counted from start.
func awaitClosed(ctx context.Context, conns []net.Conn, start, deadline time.Time) (int, time.Duration) {
	var closed atomic.Int64
	var last atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || ctx.Err() != nil {
				return
			}
			closed.Add(1)
			for {
				t := int64(time.Since(start))
				if old := last.Load(); t <= old || last.CompareAndSwap(old, t) {
					break
				}
			}
		})
	}
	wg.Wait()
	return int(closed.Load()), time.Duration(last.Load())
}
