package httvps

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/udpecho"
	"net"
	"net/http"
	"strconv"
	"time"
)

const demoPage = `<!doctype html>
<html><head><title>HTTVPS demo</title></head>
<body><h1>It works.</h1><p>This page came to you through the HTTVPS tunnel:
client → gateway (TLS WebSocket) → Outline node (Shadowsocks) → this page.</p></body></html>
`

const maxDemoBytes = 1 << 30

func DemoPattern(i int64) byte { return byte(i*31 + i>>8) }

func demoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, demoPage)
	})
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
		if err != nil || n < 0 || n > maxDemoBytes {
			http.Error(w, "n must be a byte count from 0 to 1073741824", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := make([]byte, 32<<10)
		for off := int64(0); off < n; {
			chunk := min(int64(len(buf)), n-off)
			for i := int64(0); i < chunk; i++ {
				buf[i] = DemoPattern(off + i)
			}
			if _, err := w.Write(buf[:chunk]); err != nil {
				return
			}
			off += chunk
		}
	})
	return mux
}

// pageServer is the demo page over HTTP and a UDP echo on the same port, for the UDP example.
type pageServer struct {
	srv  *http.Server
	ln   net.Listener
	echo net.PacketConn
}

func startPage(addr string) (*pageServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", EnvDemoPageAddr, addr, err)
	}
	echo, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%s: listen udp on %s: %w", EnvDemoPageAddr, ln.Addr(), err)
	}
	p := &pageServer{ln: ln, echo: echo, srv: &http.Server{Handler: demoHandler(), ReadHeaderTimeout: 5 * time.Second}}
	go udpecho.Serve(echo, nil)
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return p, nil
}

func (p *pageServer) URL() string { return "http://" + p.ln.Addr().String() + "/" }

func (p *pageServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	p.echo.Close()
}
