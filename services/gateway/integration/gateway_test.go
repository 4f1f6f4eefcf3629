package integration_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/testkit"
)

func TestGatewayWithRealAccountsAndNodeRegistry(t *testing.T) {
	ns := testkit.StartSecureNATS(t, 1, testenv.GatewayID)
	cp := startControlPlane(t, ns)
	cp.addRegion(t, testenv.Region)
	node := testenv.OutlineServer(t, 0, testenv.Region)
	node.NodeID = cp.addNode(t, node)
	alice := cp.addSubscriber(t, "alice")
	gw := testenv.StartGateway(t, ns.URL(0), func(c *gateway.Config) { c.NATSAuth = ns.Auth(natsauth.RoleGateway, testenv.GatewayID) })
	echo := testenv.EchoTarget(t)

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name  string
			hello schemas.Hello
			code  schemas.ErrorCode
		}{
			{"invalid token", schemas.Hello{DeviceID: alice.UUID, AccessToken: "not-a-token", Region: testenv.Region}, schemas.CodeInvalidToken},
			{"region unknown", schemas.Hello{DeviceID: alice.UUID, AccessToken: alice.AccessToken, Region: "mars-1"}, schemas.CodeRegionUnknown},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, refusal := testenv.Connect(t, gw, tt.hello)
				if refusal == nil || refusal.Code != tt.code {
					t.Fatalf("refusal = %+v, want %s", refusal, tt.code)
				}
			})
		}
	})

	for _, features := range [][]string{nil, {schemas.FeatureBinary, schemas.FeatureFlowControl}} {
		t.Run(fmt.Sprintf("50 streams features=%v", features), func(t *testing.T) {
			c, refusal := testenv.Connect(t, gw, schemas.Hello{DeviceID: alice.UUID, AccessToken: alice.AccessToken, Region: testenv.Region, Features: features})
			if refusal != nil {
				t.Fatalf("hello refused: %+v", *refusal)
			}
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					if err := roundTrip(c, echo.Addr, 32<<10); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}

	t.Run("revoking the device ends its session", func(t *testing.T) {
		c, refusal := testenv.Connect(t, gw, schemas.Hello{DeviceID: alice.UUID, AccessToken: alice.AccessToken, Region: testenv.Region})
		if refusal != nil {
			t.Fatalf("hello refused: %+v", *refusal)
		}
		start := time.Now()
		cp.admin(t, schemas.ResourceDevices, schemas.VerbRevoke, schemas.AdminRequest{ID: alice.ID}, nil)
		e, err := c.NextError(2 * time.Second)
		if err != nil || e.Code != schemas.CodeDeviceRevoked {
			t.Fatalf("error = %+v (%v), want DEVICE_REVOKED", e, err)
		}
		t.Logf("session ended %s after the revoke command", time.Since(start))
		_, refusal = testenv.Connect(t, gw, schemas.Hello{DeviceID: alice.UUID, AccessToken: alice.AccessToken, Region: testenv.Region})
		if refusal == nil || refusal.Code != schemas.CodeDeviceRevoked {
			t.Fatalf("hello after revoke: %+v, want DEVICE_REVOKED", refusal)
		}
	})
}

func roundTrip(c *testenv.Client, target string, size int) error {
	data := make([]byte, size)
	_, _ = rand.Read(data)
	st := c.Open(target)
	errs := make(chan error, 1)
	go func() { errs <- st.Write(data) }()
	got, err := st.ReadN(size, 20*time.Second)
	if err != nil {
		return err
	}
	if err := <-errs; err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("stream %d: bytes differ", st.ID)
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	code, err := st.WaitClosed(20 * time.Second)
	if err == nil && code != "" {
		err = fmt.Errorf("stream %d closed with %s", st.ID, code)
	}
	return err
}
