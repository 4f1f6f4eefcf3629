package usageaggregator

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type termAdvisories struct {
	mu      sync.Mutex
	reasons map[string]string
}

func (a *termAdvisories) key(stream string, seq uint64) string {
	return fmt.Sprintf("%s/%d", stream, seq)
}

func (h *harness) recordTerminations(t *testing.T) *termAdvisories {
	t.Helper()
	adv := &termAdvisories{reasons: map[string]string{}}
	nc := h.nats.Conn(t)
	_, err := nc.Subscribe(server.JSAdvisoryConsumerMsgTerminatedPre+".>", func(m *nats.Msg) {
		var a server.JSConsumerDeliveryTerminatedAdvisory
		if err := json.Unmarshal(m.Data, &a); err != nil {
			t.Errorf("terminated advisory: %v", err)
			return
		}
		adv.mu.Lock()
		adv.reasons[adv.key(a.Stream, a.StreamSeq)] = a.Reason
		adv.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("subscribe advisories: %v", err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	return adv
}

func (a *termAdvisories) reason(stream string, seq uint64) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.reasons[a.key(stream, seq)]
	return r, ok
}

func validReportJSON(t *testing.T, sessionID string, edit func(map[string]any)) []byte {
	t.Helper()
	now := time.Now().UTC()
	raw, _ := json.Marshal(schemas.UsageReport{SessionID: sessionID, Seq: 1, GatewayID: "gw-a", Region: "ru-1",
		DeviceID: "device-x", BytesUp: 10, BytesDown: 20, StartedAt: now, ReportedAt: now})
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func TestMalformedMessagesAreTerminated(t *testing.T) {
	h := newHarness(t)
	adv := h.recordTerminations(t)
	svc := h.start(t, testConfig())
	user := h.createUser(t)
	_, device := h.createDevice(t, user)
	usageSubject := schemas.UsageSubject("ru-1", "gw-a")
	sid := newSessionID()
	now := time.Now().UTC()
	ended, _ := json.Marshal(schemas.SessionEnded{SessionID: sid, GatewayID: "gw-a", DeviceID: device, StartedAt: now, EndedAt: now})

	cases := []struct {
		name    string
		stream  string
		subject string
		data    []byte
		reason  string
	}{
		{"bad json", schemas.StreamUsage, usageSubject, []byte(`{"session_id":`), "malformed: bad json"},
		{"not an object", schemas.StreamUsage, usageSubject, []byte(`[1,2]`), "bad json: json: cannot unmarshal array"},
		{"trailing data", schemas.StreamUsage, usageSubject, append(validReportJSON(t, sid, nil), []byte(`{}`)...), "trailing data"},
		{"unknown field", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["bytes_total"] = 5 }), `unknown field "bytes_total"`},
		{"negative bytes", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["bytes_up"] = -5 }), "bytes_up: must not be negative, got -5"},
		{"negative delta", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["delta_down"] = -1 }), "delta_down: must not be negative"},
		{"bytes beyond 1 PiB", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["bytes_down"] = int64(1) << 60 }), "bytes_down: must be at most 1125899906842624"},
		{"missing session_id", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { delete(m, "session_id") }), "session_id: required"},
		{"session_id not a uuid", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["session_id"] = "01JD3Q8Z6X4M2N7P9R5T0V1W3Y" }), "session_id: must be a UUID"},
		{"missing device_id", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { delete(m, "device_id") }), "device_id: required"},
		{"seq beyond int64", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["seq"] = uint64(1) << 63 }), "seq: must be at most"},
		{"negative user_id", schemas.StreamUsage, usageSubject,
			validReportJSON(t, sid, func(m map[string]any) { m["user_id"] = -3 }), "user_id: must not be negative"},
		{"boot with a bad boot id", schemas.StreamSessions, schemas.SessionSubject(schemas.SessionBootEvent, "gw-a"),
			[]byte(`{"gateway_id":"gw-a","boot_id":"xyz","region":"ru-1","booted_at":"2025-11-21T18:04:02Z"}`), "boot_id: must be 32 lowercase hex digits"},
		{"ended without reason", schemas.StreamSessions, schemas.SessionSubject(schemas.SessionEndedEvent, "gw-a"),
			ended, "reason: required"},
	}
	seqs := make([]uint64, len(cases))
	for i, c := range cases {
		seqs[i] = h.publish(t, c.subject, "", c.data)
	}
	good := schemas.UsageReport{SessionID: sid, Seq: 7, GatewayID: "gw-a", Region: "ru-1", DeviceID: device,
		BytesUp: 111, BytesDown: 222, StartedAt: now, ReportedAt: now}
	h.publishUsage(t, good)

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var reason string
			testkit.Eventually(t, waitTimeout, "termination advisory", func() bool {
				var ok bool
				reason, ok = adv.reason(c.stream, seqs[i])
				return ok
			})
			if !strings.Contains(reason, c.reason) {
				t.Errorf("terminated with reason %q, want it to contain %q", reason, c.reason)
			}
		})
	}
	h.drainedUsage(t)
	h.drainedSessions(t)
	got, ok := h.session(t, sid)
	if !ok || got.BytesUp != 111 || got.BytesDown != 222 || got.UserID != user {
		t.Errorf("good report after the bad ones: stored=%v %+v, want up=111 down=222 user=%d", ok, got, user)
	}
	terms := testutil.ToFloat64(svc.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerUsageAggregator, "term")) +
		testutil.ToFloat64(svc.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerSessionsAggregator, "term")) +
		testutil.ToFloat64(svc.svc.m.consumer.Messages.WithLabelValues(schemas.ConsumerBootsAggregator, "term"))
	if int(terms) != len(cases) {
		t.Errorf("terminated messages metric = %v, want %d", terms, len(cases))
	}
}
