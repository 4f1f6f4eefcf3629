package gateway_test

import (
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

// Re-validation ends a live session the control plane now refuses for good, with the refusal's
// code, and leaves it running for refusals that only matter to a new hello.
func TestRevalidationAtTheInterval(t *testing.T) {
	const interval = 100 * time.Millisecond
	tests := []struct {
		name    string
		refusal schemas.RPCError
		ends    bool
	}{
		{"user banned", schemas.RPCError{Code: schemas.CodeUserBanned, Message: "banned"}, true},
		{"device revoked", schemas.RPCError{Code: schemas.CodeDeviceRevoked, Message: "revoked"}, true},
		{"subscription expired", schemas.RPCError{Code: schemas.CodeSubscriptionExpired, Message: "expired"}, true},
		{"traffic limit", schemas.RPCError{Code: schemas.CodeLimitReached, Limit: schemas.LimitTraffic, Message: "limit"}, true},
		{"token expired", schemas.RPCError{Code: schemas.CodeInvalidToken, Message: "expired token"}, false},
		{"device count", schemas.RPCError{Code: schemas.CodeLimitReached, Limit: schemas.LimitDevices, Message: "devices"}, false},
		{"control plane unavailable", schemas.RPCError{Code: schemas.CodeBackendUnavailable, Message: "down"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, outlineNode, func(c *gateway.Config) { c.RevalidateInterval = interval })
			c := w.connect(t)
			refusal := tt.refusal
			w.cp.AddDevice(testenv.Device{ID: deviceID, Token: token, UserID: userID, RowID: 7, Refusal: &refusal})
			if !tt.ends {
				revalidated := testutilGauge(t, w, "httvps_gateway_control_revalidations_total")
				testkitEventually(t, "two more re-validations", func() bool {
					return testutilGauge(t, w, "httvps_gateway_control_revalidations_total") >= revalidated+2
				})
				if sessions, _ := w.gw.Svc.Counts(); sessions != 1 {
					t.Fatalf("sessions = %d after a %s refusal, want the session kept", sessions, tt.refusal.Code)
				}
				return
			}
			e, err := c.NextError(10 * time.Second)
			if err != nil {
				t.Fatalf("no error frame after the refusal: %v", err)
			}
			if e.Code != tt.refusal.Code {
				t.Fatalf("error = %+v, want %s", e, tt.refusal.Code)
			}
		})
	}
}
