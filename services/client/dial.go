package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/shared/corked"
	"github.com/rs/zerolog"
)

const (
	helloReadLimit = 1 << 20
	wsBufferSize   = 64 << 10
)

// Dial connects to the gateway, says hello and returns the session once the gateway accepted
// it. A refusal comes back as *GatewayError (Handshake set); an untrusted certificate as
// *CertificateError.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	return DialLogger(ctx, cfg, zerolog.Nop())
}

// DialLogger is Dial with a logger for the session's events.
func DialLogger(ctx context.Context, cfg Config, log zerolog.Logger) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{
		TLSClientConfig:  tc,
		HandshakeTimeout: cfg.DialTimeout,
		ReadBufferSize:   wsBufferSize,
		WriteBufferSize:  wsBufferSize,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: cfg.DialTimeout}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if tcp, ok := c.(*net.TCPConn); ok {
				_ = tcp.SetNoDelay(true)
			}
			return &corked.Conn{Conn: c}, nil
		},
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	conn, resp, err := dialer.DialContext(dctx, cfg.Gateway, nil)
	if err != nil {
		return nil, dialError(cfg.Gateway, resp, err)
	}
	ok, err := hello(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return newSession(conn, cfg, ok, log), nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure}
	if cfg.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", cfg.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

func dialError(gateway string, resp *http.Response, err error) error {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &host):
		return &CertificateError{Err: err}
	case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
		return fmt.Errorf("connect to %s: the gateway answered HTTP %d instead of a WebSocket upgrade (is the path /ws?)", gateway, resp.StatusCode)
	}
	return fmt.Errorf("connect to %s: %w", gateway, err)
}

func features(cfg Config) []string {
	var f []string
	if cfg.Binary {
		f = append(f, schemas.FeatureBinary)
	}
	if cfg.FlowControl {
		f = append(f, schemas.FeatureFlowControl)
	}
	if cfg.Confirm {
		f = append(f, schemas.FeatureStreamConfirm)
	}
	if cfg.UDP {
		f = append(f, schemas.FeatureUDP)
	}
	return f
}

// hello sends the hello frame and reads the gateway's answer.
func hello(conn *websocket.Conn, cfg Config) (schemas.HelloOK, error) {
	msg, err := wire.AppendJSON(nil, schemas.Hello{
		DeviceID: cfg.DeviceID, AccessToken: cfg.Token, Region: cfg.Region,
		ClientVersion: cfg.ClientVersion, Platform: cfg.Platform, Features: features(cfg),
	})
	if err != nil {
		return schemas.HelloOK{}, err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		return schemas.HelloOK{}, fmt.Errorf("send hello: %w", err)
	}
	conn.SetReadLimit(helloReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(cfg.HelloTimeout))
	kind, r, err := conn.NextReader()
	if err != nil {
		if ce, ok := err.(*websocket.CloseError); ok {
			return schemas.HelloOK{}, fmt.Errorf("the gateway closed the connection before answering hello (close %d %s)", ce.Code, ce.Text)
		}
		return schemas.HelloOK{}, fmt.Errorf("wait for hello_ok: %w", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return schemas.HelloOK{}, fmt.Errorf("read hello_ok: %w", err)
	}
	if kind != websocket.TextMessage {
		return schemas.HelloOK{}, errors.New("the gateway answered hello with a binary message")
	}
	frame, err := wire.DecodeText(data)
	if err != nil {
		return schemas.HelloOK{}, fmt.Errorf("the gateway's answer to hello: %w", err)
	}
	switch f := frame.(type) {
	case schemas.HelloOK:
		return f, nil
	case schemas.ErrorFrame:
		return schemas.HelloOK{}, &GatewayError{Code: f.Code, Limit: f.Limit, Message: f.Message, Handshake: true}
	default:
		return schemas.HelloOK{}, fmt.Errorf("the gateway answered hello with %T", frame)
	}
}

func negotiated(ok schemas.HelloOK, feature string) bool {
	return slices.Contains(ok.Features, feature)
}
