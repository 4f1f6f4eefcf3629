package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
)

// TestEveryUnitUnderItsOwnNATSIdentity runs the system on the shipped production NATS
// configuration, each service and the gateway with its own nkey, TLS and inbox prefix: a hello,
// a stream, the usage booked and a revoke all work within the permissions.
func TestEveryUnitUnderItsOwnNATSIdentity(t *testing.T) {
	const gatewayID = "gw-client"
	sec := testkit.StartSecureNATS(t, 1, gatewayID)
	e := newEnvWith(t, nil, func(cfg *system.Config) {
		cfg.NATSURLs = []string{sec.URL(0)}
		cfg.NATSAuth = func(kind string, _ int) natsx.Auth {
			switch kind {
			case "gateway":
				return sec.Auth(natsauth.RoleGateway, gatewayID)
			case "system":
				return sec.Auth(natsauth.RoleService, natsauth.Operator)
			default:
				return sec.Auth(natsauth.RoleService, kind)
			}
		}
	})
	if e.gwCfg.GatewayID != gatewayID {
		t.Fatalf("the env's gateway is %s", e.gwCfg.GatewayID)
	}
	echo := tcpTarget(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })

	d := e.subscriber(t)
	s := e.dial(t, e.config(d, true))
	if err := echoRoundTrip(s, echo, blob(7, 64<<10)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, "the stream's traffic booked to the device's owner", func() bool {
		var usage struct {
			TotalBytes int64 `json:"total_bytes"`
		}
		var raw json.RawMessage
		if err := e.admin.Call(context.Background(), schemas.ResourceUsage, schemas.VerbGet, schemas.AdminRequest{ID: d.UserID}, &raw); err != nil {
			return false
		}
		return json.Unmarshal(raw, &usage) == nil && usage.TotalBytes >= 2*64<<10
	})
	if err := e.admin.Revoke(context.Background(), d.DeviceUUID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived the revoke by 10s")
	}
	if ge, ok := client.AsGatewayError(s.Err()); !ok || ge.Code != schemas.CodeDeviceRevoked {
		t.Fatalf("session ended with %v, want DEVICE_REVOKED", s.Err())
	}
}
