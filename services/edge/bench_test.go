package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
)

// BenchmarkUsageReport measures one REST usage report up to the JetStream ack.
func BenchmarkUsageReport(b *testing.B) {
	h := startEdge(b)
	h.skipConformance = true
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`{"gateway_id":"gw-1","device_id":"d1","session_id":"0b6f6a8e-2f4c-4d1a-9a57-3c1f2e9d8b10","bytes_up":%d,"bytes_down":0,"started_at":"2025-11-21T18:00:00Z","region":"eu-1"}`, i)
		if r := h.post("/api/v1/usage/report", nodeToken, body); r.status != http.StatusAccepted {
			b.Fatalf("status %d: %s", r.status, r.raw)
		}
	}
}

// BenchmarkValidateDevice measures the edge's own cost around one NATS request/reply.
func BenchmarkValidateDevice(b *testing.B) {
	h := startEdge(b)
	h.skipConformance = true
	fakeOwner(b, h, "accounts", map[string]micro.Handler{
		schemas.SubjectValidateDevice: rpc.Handle(srv(b), "validate-device", func(context.Context, schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, error) {
			return schemas.ValidateDeviceReply{}, rpc.Errorf(schemas.CodeNoSubscription, "no subscription")
		}),
	})
	body := `{"device_id":"d1","access_token":"tok","region":"eu-1"}`
	b.ResetTimer()
	for range b.N {
		if r := h.post("/api/v1/auth/validate-device", nodeToken, body); r.status != http.StatusForbidden {
			b.Fatalf("status %d: %s", r.status, r.raw)
		}
	}
}
