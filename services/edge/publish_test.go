package edge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/edge"
	"github.com/nats-io/nats.go/jetstream"
)

func lastMessage(tb testing.TB, js jetstream.JetStream, stream, subject string) *jetstream.RawStreamMsg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		tb.Fatalf("last message on %s in %s: %v", subject, stream, err)
	}
	return msg
}

func streamMsgs(tb testing.TB, js jetstream.JetStream, stream string) uint64 {
	tb.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

func TestUsageReportLandsInUSAGEOnceAndDeduplicates(t *testing.T) {
	h := startEdge(t)
	tests := []struct {
		name, body, subject, msgID string
		final                      bool
		region                     string
	}{
		{"with region", `{"gateway_id":"gw-1","device_id":"d1","session_id":"6F1C0C52-8A5B-4E37-9C1D-2B7E4A9F0D11","bytes_up":100,"bytes_down":2000,"started_at":"2025-11-21T18:00:00+03:00","region":"eu-1","user_id":7,"outline_node_id":3}`,
			"httvps.usage.eu-1.gw-1", "rest:6f1c0c52-8a5b-4e37-9c1d-2b7e4a9f0d11:100:2000", false, "eu-1"},
		{"without region", `{"gateway_id":"gw-2","device_id":"d2","session_id":"a3d4e5f6-0000-4000-8000-000000000002","bytes_up":0,"bytes_down":0,"started_at":"2025-11-21T18:00:00Z"}`,
			"httvps.usage.none.gw-2", "rest:a3d4e5f6-0000-4000-8000-000000000002:0:0", false, ""},
		{"ended", `{"gateway_id":"gw-1","device_id":"d1","session_id":"6F1C0C52-8A5B-4E37-9C1D-2B7E4A9F0D11","bytes_up":100,"bytes_down":2000,"started_at":"2025-11-21T15:00:00Z","ended_at":"2025-11-21T16:00:00Z","region":"eu-1"}`,
			"httvps.usage.eu-1.gw-1", "rest:6f1c0c52-8a5b-4e37-9c1d-2b7e4a9f0d11:100:2000:final", true, "eu-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := streamMsgs(t, h.js, schemas.StreamUsage)
			first := h.post("/api/v1/usage/report", nodeToken, tt.body)
			wantStatus(t, first, http.StatusAccepted)
			var ack edge.Accepted
			first.decode(t, &ack)
			if !ack.OK || ack.Duplicate || ack.Stream != schemas.StreamUsage || ack.Seq == 0 {
				t.Fatalf("first ack %s", first.raw)
			}

			msg := lastMessage(t, h.js, schemas.StreamUsage, tt.subject)
			if got := msg.Header.Get(schemas.HeaderMsgID); got != tt.msgID {
				t.Errorf("Nats-Msg-Id %q, want %q", got, tt.msgID)
			}
			var rep schemas.UsageReport
			dec := json.NewDecoder(bytesReader(msg.Data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("payload is not a UsageReport: %v\n%s", err, msg.Data)
			}
			if rep.Final != tt.final || (rep.EndedAt != nil) != tt.final || rep.Region != tt.region || rep.ReportedAt.IsZero() {
				t.Errorf("report %+v", rep)
			}
			if !rep.StartedAt.Equal(time.Date(2025, 11, 21, 15, 0, 0, 0, time.UTC)) && !rep.StartedAt.Equal(time.Date(2025, 11, 21, 18, 0, 0, 0, time.UTC)) {
				t.Errorf("started_at %s", rep.StartedAt)
			}

			again := h.post("/api/v1/usage/report", nodeToken, tt.body)
			wantStatus(t, again, http.StatusAccepted)
			var dup edge.Accepted
			again.decode(t, &dup)
			if !dup.Duplicate || dup.Seq != ack.Seq {
				t.Fatalf("retry ack %s, first %s", again.raw, first.raw)
			}
			if got := streamMsgs(t, h.js, schemas.StreamUsage); got != before+1 {
				t.Fatalf("USAGE holds %d messages, want %d", got, before+1)
			}
		})
	}
	t.Run("new totals are a new message", func(t *testing.T) {
		before := streamMsgs(t, h.js, schemas.StreamUsage)
		wantStatus(t, h.post("/api/v1/usage/report", nodeToken, `{"gateway_id":"gw-1","device_id":"d1","session_id":"6F1C0C52-8A5B-4E37-9C1D-2B7E4A9F0D11","bytes_up":150,"bytes_down":2000,"started_at":"2025-11-21T15:00:00Z","region":"eu-1"}`), http.StatusAccepted)
		if got := streamMsgs(t, h.js, schemas.StreamUsage); got != before+1 {
			t.Fatalf("USAGE holds %d messages, want %d", got, before+1)
		}
	})
}

func TestHeartbeatsLandInHEARTBEATS(t *testing.T) {
	h := startEdge(t)
	t.Run("gateway", func(t *testing.T) {
		r := h.post("/api/v1/gateway/heartbeat", nodeToken, `{"gateway_id":"gw-ru-1-a","region":"ru-1","public_ip":"203.0.113.10","internal_ip":"10.0.0.5","version":"1.2.0","status":"draining","sessions":12,"streams":40,"bytes_up_per_sec":1500.5,"bytes_down_per_sec":90000,"interval_seconds":10}`)
		wantStatus(t, r, http.StatusAccepted)
		msg := lastMessage(t, h.js, schemas.StreamHeartbeats, schemas.GatewayHeartbeatSubject("gw-ru-1-a"))
		var hb schemas.GatewayHeartbeat
		strictDecode(t, msg.Data, &hb)
		want := schemas.GatewayHeartbeat{GatewayID: "gw-ru-1-a", Region: "ru-1", PublicIP: "203.0.113.10", InternalIP: "10.0.0.5", Version: "1.2.0",
			Status: "draining", Sessions: 12, Streams: 40, BytesUpPerSec: 1500.5, BytesDownPerSec: 90000, IntervalSeconds: 10, SentAt: hb.SentAt}
		if hb != want || time.Since(hb.SentAt) > time.Minute {
			t.Fatalf("heartbeat %+v", hb)
		}
	})
	t.Run("outline", func(t *testing.T) {
		r := h.post("/api/v1/outline/heartbeat", nodeToken, `{"node_id":42,"health_status":"unhealthy","active_connections":3,"load":0.75,"sent_at":"2025-11-21T18:46:11Z"}`)
		wantStatus(t, r, http.StatusAccepted)
		msg := lastMessage(t, h.js, schemas.StreamHeartbeats, schemas.OutlineHeartbeatSubject(42))
		var hb schemas.OutlineHeartbeat
		strictDecode(t, msg.Data, &hb)
		want := schemas.OutlineHeartbeat{NodeID: 42, HealthStatus: "unhealthy", ActiveConnections: 3, Load: 0.75, SentAt: time.Date(2025, 11, 21, 18, 46, 11, 0, time.UTC)}
		if !hb.SentAt.Equal(want.SentAt) || hb.NodeID != want.NodeID || hb.HealthStatus != want.HealthStatus || hb.ActiveConnections != 3 || hb.Load != 0.75 {
			t.Fatalf("heartbeat %+v", hb)
		}
	})
}

func strictDecode(tb testing.TB, data []byte, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("decode %T: %v\n%s", v, err, data)
	}
}
