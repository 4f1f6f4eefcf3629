package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/jetstream"
)

type storedMsg struct {
	subject string
	msgID   string
	data    []byte
}

// streamMessages reads every message of a JetStream stream.
func streamMessages(t testing.TB, srv *testkit.NATSServer, name string) []storedMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js := srv.JetStream(t)
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", name, err)
	}
	var out []storedMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("stream %s msg %d: %v", name, seq, err)
		}
		out = append(out, storedMsg{subject: m.Subject, msgID: m.Header.Get(schemas.HeaderMsgID), data: m.Data})
	}
	return out
}

func usageReports(t testing.TB, srv *testkit.NATSServer, sessionID string) []schemas.UsageReport {
	t.Helper()
	var out []schemas.UsageReport
	for _, m := range streamMessages(t, srv, schemas.StreamUsage) {
		var r schemas.UsageReport
		if err := json.Unmarshal(m.data, &r); err != nil {
			t.Fatalf("usage report %s: %v", m.data, err)
		}
		if r.SessionID != sessionID {
			continue
		}
		if m.msgID != schemas.UsageMsgID(r.SessionID, r.Seq) {
			t.Fatalf("Nats-Msg-Id = %q, want %q", m.msgID, schemas.UsageMsgID(r.SessionID, r.Seq))
		}
		if m.subject != schemas.UsageSubject(r.Region, r.GatewayID) {
			t.Fatalf("usage subject = %q", m.subject)
		}
		out = append(out, r)
	}
	return out
}

func finalReport(t testing.TB, srv *testkit.NATSServer, sessionID string) (schemas.UsageReport, bool) {
	for _, r := range usageReports(t, srv, sessionID) {
		if r.Final {
			return r, true
		}
	}
	return schemas.UsageReport{}, false
}

func sessionEvents(t testing.TB, srv *testkit.NATSServer, sessionID string) (started *schemas.SessionStarted, ended *schemas.SessionEnded) {
	t.Helper()
	for _, m := range streamMessages(t, srv, schemas.StreamSessions) {
		switch m.subject {
		case schemas.SessionSubject(schemas.SessionStartedEvent, "gw-test"):
			var ev schemas.SessionStarted
			if json.Unmarshal(m.data, &ev) == nil && ev.SessionID == sessionID {
				started = &ev
			}
		case schemas.SessionSubject(schemas.SessionEndedEvent, "gw-test"):
			var ev schemas.SessionEnded
			if json.Unmarshal(m.data, &ev) == nil && ev.SessionID == sessionID {
				ended = &ev
			}
		}
	}
	return started, ended
}

func waitEnded(t testing.TB, srv *testkit.NATSServer, sessionID string) *schemas.SessionEnded {
	t.Helper()
	var ended *schemas.SessionEnded
	testkit.Eventually(t, 15*time.Second, "session ended event of "+sessionID, func() bool {
		_, ended = sessionEvents(t, srv, sessionID)
		return ended != nil
	})
	return ended
}
