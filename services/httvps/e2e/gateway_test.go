package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
)

// TestGatewayWithTheRealControlPlane: hello refusals, many streams per session in both frame
// modes, and a revoke that ends the live session and refuses the next hello.
func TestGatewayWithTheRealControlPlane(t *testing.T) {
	e := newEnv(t, nil)
	echo := tcpTarget(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(*client.Config)
			code   schemas.ErrorCode
		}{
			{"invalid token", func(c *client.Config) { c.Token = "not-a-token" }, schemas.CodeInvalidToken},
			{"region unknown", func(c *client.Config) { c.Region = "mars-1" }, schemas.CodeRegionUnknown},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := e.config(e.device, false)
				tt.change(&cfg)
				_, err := client.Dial(context.Background(), cfg)
				if ge, ok := client.AsGatewayError(err); !ok || ge.Code != tt.code || !ge.Handshake {
					t.Fatalf("dial: %v, want %s in the handshake", err, tt.code)
				}
			})
		}
	})

	for _, m := range modes {
		t.Run("50 streams/"+m.name, func(t *testing.T) {
			s := e.dial(t, e.config(e.device, m.binary))
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Go(func() {
					if err := echoRoundTrip(s, echo, blob(uint64(200+i), 32<<10)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}

	t.Run("revoking the device ends its session", func(t *testing.T) {
		d := e.subscriber(t)
		s := e.dial(t, e.config(d, false))
		if err := e.admin.Revoke(context.Background(), d.DeviceUUID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the session outlived the revoke by 5s")
		}
		if ge, ok := client.AsGatewayError(s.Err()); !ok || ge.Code != schemas.CodeDeviceRevoked {
			t.Fatalf("session ended with %v, want DEVICE_REVOKED", s.Err())
		}
		_, err := client.Dial(context.Background(), e.config(d, false))
		if ge, ok := client.AsGatewayError(err); !ok || ge.Code != schemas.CodeDeviceRevoked {
			t.Fatalf("hello after the revoke: %v, want DEVICE_REVOKED", err)
		}
	})
}

func echoRoundTrip(s *client.Session, target string, data []byte) error {
	st, err := s.OpenStream(context.Background(), target)
	if err != nil {
		return err
	}
	defer st.Close()
	_ = st.SetReadDeadline(time.Now().Add(20 * time.Second))
	errs := make(chan error, 1)
	go func() {
		_, err := st.Write(data)
		errs <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(st, got); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("echo differs from the %d bytes sent", len(data))
	}
	return nil
}
