package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/testkit"
)

var modes = []struct {
	name   string
	binary bool
}{{"json", false}, {"binary", true}}

// TestThroughTheRealGateway runs the client against the real gateway, accounts, node-registry
// and an ss-server process, sharing one back end across the subtests.
func TestThroughTheRealGateway(t *testing.T) {
	e := newEnv(t, nil)
	web := httpTarget(t)
	webPort := web.Listener.Addr().(*net.TCPAddr).Port

	for _, m := range modes {
		t.Run("socks download and upload/"+m.name, func(t *testing.T) {
			_, socksAddr, _ := runTunnel(t, e.config(e.device, m.binary), e.log)
			hc := socksHTTPClient(t, socksAddr)
			checkDownload(t, hc, fmt.Sprintf("http://localhost:%d/blob?seed=1&size=%d", webPort, 8<<20), blob(1, 8<<20))
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					seed := uint64(100 + i)
					checkDownload(t, hc, fmt.Sprintf("http://127.0.0.1:%d/blob?seed=%d&size=%d", webPort, seed, 1<<20), blob(seed, 1<<20))
				})
			}
			wg.Wait()
			body := blob(9, 4<<20)
			resp, err := hc.Post(fmt.Sprintf("http://127.0.0.1:%d/digest", webPort), "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := sha256.Sum256(body)
			if want := fmt.Sprintf("%d %s", len(body), hex.EncodeToString(sum[:])); string(got) != want {
				t.Fatalf("upload digest %q, want %q", got, want)
			}
		})
	}

	t.Run("curl --socks5-hostname", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Fatalf("curl is needed (apt-get install curl): %v", err)
		}
		_, socksAddr, _ := runTunnel(t, e.config(e.device, true), e.log)
		out := filepath.Join(t.TempDir(), "blob")
		url := fmt.Sprintf("http://localhost:%d/blob?seed=3&size=%d", webPort, 3<<20)
		cmd := exec.Command(curl, "--silent", "--show-error", "--fail", "--max-time", "30", "--socks5-hostname", socksAddr, "-o", out, url)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("curl: %v: %s", err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, blob(3, 3<<20)) {
			t.Fatalf("curl got %d bytes that differ from the %d sent", len(got), 3<<20)
		}
	})

	for _, m := range modes {
		t.Run("half-close both ways/"+m.name, func(t *testing.T) {
			cfg := e.config(e.device, m.binary)
			cfg.Region = outlineRegion
			s := e.dial(t, cfg)
			checkClientHalfClose(t, s)
			checkTargetHalfClose(t, s)
		})
	}

	t.Run("socks refusals carry the gateway's codes", func(t *testing.T) {
		spec := e.config(e.device, false)
		spec.ConnectWait = 10 * time.Second
		_, specSOCKS, _ := runTunnel(t, spec, e.log)
		_, confirmSOCKS, _ := runTunnel(t, e.config(e.device, true), e.log)
		closed := testkit.FreePort(t)
		tests := []struct {
			name   string
			socks  string
			host   string
			port   int
			want   socksReply
			reason string
		}{
			{"private range", confirmSOCKS, "10.1.2.3", 80, replyNotAllowed, "TARGET_FORBIDDEN"},
			{"unresolvable name", confirmSOCKS, "no-such-host.invalid", 80, replyHostUnreachable, "UPSTREAM_UNREACHABLE (cannot resolve)"},
			{"ipv6 loopback outside the allow list", confirmSOCKS, "::1", webPort, replyNotAllowed, "TARGET_FORBIDDEN"},
			{"closed port, confirmed once the node took it", confirmSOCKS, "127.0.0.1", closed, replySucceeded, "the node, not the target, confirms"},
			{"spec-only: private range", specSOCKS, "10.1.2.3", 80, replyNotAllowed, "TARGET_FORBIDDEN"},
			{"spec-only: unresolvable name", specSOCKS, "no-such-host.invalid", 80, replyHostUnreachable, "UPSTREAM_UNREACHABLE (cannot resolve)"},
			{"spec-only: closed port within the connect wait", specSOCKS, "127.0.0.1", closed, replyHostUnreachable, "UPSTREAM_UNREACHABLE"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := socksConnect(t, tt.socks, tt.host, tt.port); got != tt.want {
					t.Fatalf("reply %s, want %s (%s)", got, tt.want, tt.reason)
				}
			})
		}
	})

	t.Run("download windows grow within the client's maximum", func(t *testing.T) {
		cfg := e.config(e.device, true)
		cfg.MaxWindow = 1 << 20
		s := e.dial(t, cfg)
		initial := s.Limits().InitialWindow
		const size = 32 << 20
		source := tcpTarget(t, func(c *net.TCPConn) {
			_, _ = io.CopyN(c, bytes.NewReader(make([]byte, size)), size)
		})
		st, err := s.OpenStream(context.Background(), source)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.AwaitOpen(context.Background()); err != nil {
			t.Fatal(err)
		}
		buf, total, largest := make([]byte, 64<<10), 0, 0
		for total < size {
			n, err := st.Read(buf)
			total += n
			largest = max(largest, st.Window())
			if err != nil {
				t.Fatalf("after %d bytes: %v", total, err)
			}
		}
		if largest <= initial || largest > cfg.MaxWindow {
			t.Fatalf("largest window %d, want above the initial %d and at most %d", largest, initial, cfg.MaxWindow)
		}
	})

	t.Run("stream limit is LIMIT_REACHED", func(t *testing.T) {
		gw := e.extraGateway(t, func(c *gateway.Config) { c.MaxStreams = 1 })
		cfg := e.config(e.device, true)
		cfg.Gateway = system.WebSocketURL(gw.Service)
		s := e.dial(t, cfg)
		target := holdTarget(t)
		first, err := s.OpenStream(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		second, err := s.OpenStream(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		err = second.AwaitRefusal(context.Background(), 10*time.Second)
		ge, ok := client.AsGatewayError(err)
		if !ok || ge.Code != schemas.CodeLimitReached || ge.Limit != schemas.LimitStreams {
			t.Fatalf("second stream: %v, want LIMIT_REACHED (streams)", err)
		}
		if socksReply(client.ReplyFor(err)) != replyGeneralFailure {
			t.Fatalf("SOCKS reply %s, want general failure", client.ReplyFor(err))
		}
		if s.Err() != nil {
			t.Fatalf("a stream refusal ended the session: %v", s.Err())
		}
	})

	t.Run("definitive refusal stops the tunnel", func(t *testing.T) {
		bad := e.device
		bad.Token = "not-a-token"
		_, err := client.Dial(context.Background(), e.config(bad, false))
		ge, ok := client.AsGatewayError(err)
		if !ok || ge.Code != schemas.CodeInvalidToken || !ge.Handshake {
			t.Fatalf("dial with a bad token: %v, want INVALID_TOKEN", err)
		}
		if !strings.HasPrefix(err.Error(), "the gateway refused this device: its token is not valid (INVALID_TOKEN)") {
			t.Fatalf("message %q", err)
		}
		_, _, ran := runTunnel(t, e.config(bad, false), e.log)
		select {
		case err := <-ran:
			if !client.IsDefinitive(err) {
				t.Fatalf("Run = %v, want the definitive refusal", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the tunnel kept retrying after INVALID_TOKEN")
		}
	})

	t.Run("untrusted certificate is definitive", func(t *testing.T) {
		cfg := e.config(e.device, false)
		cfg.CAFile = ""
		_, err := client.Dial(context.Background(), cfg)
		var ce *client.CertificateError
		if !errors.As(err, &ce) || !client.IsDefinitive(err) {
			t.Fatalf("dial without the CA: %v, want a certificate error", err)
		}
		cfg.Insecure = true
		s, err := client.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatalf("dial with --insecure: %v", err)
		}
		s.Close()
	})

	t.Run("reconnects after a gateway restart, stops on revoke", func(t *testing.T) {
		d := e.subscriber(t)
		tun, socksAddr, ran := runTunnel(t, e.config(d, true), e.log)
		first := waitSession(t, tun, nil)
		hc := socksHTTPClient(t, socksAddr)
		checkDownload(t, hc, fmt.Sprintf("http://127.0.0.1:%d/blob?seed=5&size=65536", webPort), blob(5, 65536))

		if err := e.gw.Stop(); err != nil {
			t.Fatalf("stop gateway: %v", err)
		}
		<-first.Done()
		if ge, ok := client.AsGatewayError(first.Err()); !ok || ge.Code != schemas.CodeGatewayShutdown {
			t.Fatalf("session ended with %v, want GATEWAY_SHUTDOWN", first.Err())
		}
		e.startGateway(t)
		second := waitSession(t, tun, first)
		checkDownload(t, hc, fmt.Sprintf("http://127.0.0.1:%d/blob?seed=6&size=65536", webPort), blob(6, 65536))

		if err := e.admin.Revoke(context.Background(), d.DeviceUUID); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-ran:
			ge, ok := client.AsGatewayError(err)
			if !ok || ge.Code != schemas.CodeDeviceRevoked {
				t.Fatalf("Run = %v, want DEVICE_REVOKED", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the tunnel did not stop after the device was revoked")
		}
		<-second.Done()
	})

	t.Run("httvps-client command", func(t *testing.T) {
		bin := buildClient(t)
		args := func(d system.Device, socks string) []string {
			return []string{"--gateway", system.WebSocketURL(e.gw.Service), "--ca", e.certPEM, "--device-id", d.DeviceUUID, "--region", region, "--socks", socks, "--binary"}
		}
		d := e.subscriber(t)
		socks := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
		cmd := exec.Command(bin, args(d, socks)...)
		cmd.Env = append(os.Environ(), client.EnvToken+"="+d.Token)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		testkit.Eventually(t, 15*time.Second, "the command's SOCKS listener and session", func() bool {
			c, err := net.Dial("tcp", socks)
			if err == nil {
				c.Close()
			}
			sessions, _ := e.gw.Service.Counts()
			return err == nil && sessions > 0
		})
		checkDownload(t, socksHTTPClient(t, socks), fmt.Sprintf("http://localhost:%d/blob?seed=8&size=%d", webPort, 1<<20), blob(8, 1<<20))
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("exit after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("no exit after Ctrl-C; stderr:\n%s", stderr.String())
		}
		t.Logf("command output:\n%s", stderr.String())
		testkit.Eventually(t, 10*time.Second, "the gateway ends the command's session", func() bool {
			sessions, _ := e.gw.Service.Counts()
			return sessions == 0
		})

		bad := exec.Command(bin, append(args(d, "127.0.0.1:0"), "--token", "wrong")...)
		out, err := bad.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Fatalf("with a bad token: %v, want exit status 3; output:\n%s", err, out)
		}
		if want := "the gateway refused this device: its token is not valid (INVALID_TOKEN)"; !strings.Contains(string(out), want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	})

	t.Run("close ends the gateway's session", func(t *testing.T) {
		s := e.dial(t, e.config(e.device, false))
		st, err := s.OpenStream(context.Background(), holdTarget(t))
		if err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, "the gateway counts the stream", func() bool {
			_, streams := e.gw.Service.Counts()
			return streams == 1
		})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Read(make([]byte, 1)); !errors.Is(err, client.ErrSessionClosed) {
			t.Fatalf("read after Close: %v", err)
		}
		testkit.Eventually(t, 10*time.Second, "the gateway drops the session", func() bool {
			sessions, streams := e.gw.Service.Counts()
			return sessions == 0 && streams == 0
		})
	})
}

func (e *env) extraGateway(t *testing.T, tune func(*gateway.Config)) *system.Unit[*gateway.Service] {
	t.Helper()
	cfg := e.gwCfg
	cfg.GatewayID += "-extra"
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSDir = filepath.Dir(e.certPEM)
	tune(&cfg)
	gw, err := e.sys.StartGateway(context.Background(), cfg)
	if err != nil {
		t.Fatalf("extra gateway: %v", err)
	}
	t.Cleanup(func() { _ = gw.Stop() })
	return gw
}

func waitSession(t *testing.T, tun *client.Tunnel, not *client.Session) *client.Session {
	t.Helper()
	var s *client.Session
	testkit.Eventually(t, 15*time.Second, "the tunnel has a session", func() bool {
		s = tun.Session()
		return s != nil && s != not
	})
	return s
}

func checkDownload(t *testing.T, hc *http.Client, url string, want []byte) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s: body: %v", url, err)
		return
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("GET %s: status %d, %d bytes, want %d; first difference at byte %d", url, resp.StatusCode, len(got), len(want), i)
	}
}

// socksConnect sends a CONNECT for host:port and returns the reply code.
func socksConnect(t *testing.T, socksAddr, host string, port int) socksReply {
	t.Helper()
	c, err := net.Dial("tcp", socksAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	req := []byte{5, 1, 0, 5, 1, 0}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		req = append(append(req, atypIPv4), ip.To4()...)
	} else if ip != nil {
		req = append(append(req, atypIPv6), ip.To16()...)
	} else {
		req = append(append(req, atypDomain, byte(len(host))), host...)
	}
	req = append(req, byte(port>>8), byte(port))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 12)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return socksReply(reply[3])
}

// tcpTarget serves each connection on 127.0.0.1 with handle.
func tcpTarget(t *testing.T, handle func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c.(*net.TCPConn))
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// holdTarget keeps connections open, sending nothing, until they close.
func holdTarget(t *testing.T) string {
	return tcpTarget(t, func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) })
}

// checkClientHalfClose: the client sends data and half-closes; the target, having read to
// EOF, answers with the digest.
func checkClientHalfClose(t *testing.T, s *client.Session) {
	t.Helper()
	target := tcpTarget(t, func(c *net.TCPConn) {
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err != nil {
			return
		}
		fmt.Fprintf(c, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
		_ = c.CloseWrite()
	})
	st, err := s.OpenStream(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data := blob(11, 1<<20+123)
	if _, err := st.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := st.CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}
	_ = st.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(st)
	if err != nil {
		t.Fatalf("read digest: %v", err)
	}
	sum := sha256.Sum256(data)
	if want := strconv.Itoa(len(data)) + " " + hex.EncodeToString(sum[:]); string(got) != want {
		t.Fatalf("digest %q, want %q", got, want)
	}
}

// checkTargetHalfClose: the target sends a greeting and half-closes; the client reads to EOF,
// then still sends its answer, which the target reads to its EOF.
func checkTargetHalfClose(t *testing.T, s *client.Session) {
	t.Helper()
	heard := make(chan string, 1)
	target := tcpTarget(t, func(c *net.TCPConn) {
		_, _ = c.Write([]byte("greetings"))
		_ = c.CloseWrite()
		b, _ := io.ReadAll(c)
		heard <- string(b)
	})
	st, err := s.OpenStream(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_ = st.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(st)
	if err != nil || string(got) != "greetings" {
		t.Fatalf("read %q, %v; want the greeting then EOF", got, err)
	}
	answer := strings.Repeat("answer after the target's EOF; ", 4096)
	if _, err := st.Write([]byte(answer)); err != nil {
		t.Fatalf("write after the target's half-close: %v", err)
	}
	if err := st.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-heard:
		if h != answer {
			t.Fatalf("target heard %d bytes, want %d", len(h), len(answer))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the target never saw the client's EOF")
	}
}

// buildClient builds cmd/httvps-client into a temporary directory.
func buildClient(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "httvps-client")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/httvps/httvps/services/client/cmd/httvps-client").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// socksReply is a SOCKS5 reply code (RFC 1928).
type socksReply byte

const (
	replySucceeded       socksReply = 0
	replyGeneralFailure  socksReply = 1
	replyNotAllowed      socksReply = 2
	replyHostUnreachable socksReply = 4

	atypIPv4   = 1
	atypDomain = 3
	atypIPv6   = 4
)

func (r socksReply) String() string { return fmt.Sprintf("SOCKS5 reply %d", byte(r)) }
