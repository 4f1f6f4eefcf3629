package usageaggregator

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type endedMessage struct {
	msgID string
	event schemas.SessionEnded
}

// endedMessages reads every SessionEnded stored in the SESSIONS stream, by session.
func (h *harness) endedMessages(t *testing.T) map[string][]endedMessage {
	t.Helper()
	stream, err := h.js.Stream(t.Context(), schemas.StreamSessions)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	out := map[string][]endedMessage{}
	for seq := uint64(1); seq <= stream.CachedInfo().State.LastSeq; seq++ {
		m, err := stream.GetMsg(t.Context(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("get message %d: %v", seq, err)
		}
		if kind, err := sessionEventKind(m.Subject); err != nil || kind != schemas.SessionEndedEvent {
			continue
		}
		var e schemas.SessionEnded
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		out[e.SessionID] = append(out[e.SessionID], endedMessage{msgID: m.Header.Get(schemas.HeaderMsgID), event: e})
	}
	return out
}

func TestSweeperClosesSessionsOfLostGateways(t *testing.T) {
	h := newHarness(t)
	quiet := testConfig()
	quiet.GatewayTimeout = 24 * time.Hour
	h.start(t, quiet)
	cfg := testConfig()
	cfg.GatewayTimeout = time.Minute
	cfg.SweepInterval = 50 * time.Millisecond
	f := h.sessionFixture(t)
	lastBeat := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	h.createGateway(t, "gw-dead", lastBeat)
	h.createGateway(t, "gw-live", time.Now())
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)

	onDead, onLive, ghostOld, ghostFresh, alreadyEnded := newSessionID(), newSessionID(), newSessionID(), newSessionID(), newSessionID()
	f.startedOn(t, onDead, "gw-dead", start)
	f.startedOn(t, onLive, "gw-live", start)
	f.startedOn(t, ghostOld, "gw-ghost", start)
	f.startedOn(t, ghostFresh, "gw-ghost", start)
	f.h.publish(t, schemas.SessionSubject(schemas.SessionEndedEvent, "gw-dead"), "ended:"+alreadyEnded, schemas.SessionEnded{
		SessionID: alreadyEnded, GatewayID: "gw-dead", Region: "ru-1", UserID: f.user, DeviceID: f.uuid,
		StartedAt: start, EndedAt: start.Add(time.Minute), Seq: 1, Reason: schemas.EndReasonClientClosed})
	f.usageOn(t, onDead, "gw-dead", 3, 300, 400, true)
	f.settle(t)
	ghostSeen := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Millisecond)
	h.exec(t, `UPDATE sessions SET updated_at = ? WHERE id = ?`, ghostSeen, ghostOld)

	a, b := h.start(t, cfg), h.start(t, cfg)
	testkit.Eventually(t, waitTimeout, "lost sessions closed", func() bool {
		d, _ := h.session(t, onDead)
		g, _ := h.session(t, ghostOld)
		return d.EndedAt != nil && g.EndedAt != nil
	})
	f.settle(t)

	wantEnd := map[string]time.Time{onDead: lastBeat, ghostOld: ghostSeen}
	for id, end := range wantEnd {
		got, _ := h.session(t, id)
		if got.EndReason != schemas.EndReasonGatewayLost || got.EndedAt == nil || !got.EndedAt.Equal(end) {
			t.Errorf("session %s: ended_at %v reason %q, want %v %q", id, got.EndedAt, got.EndReason, end, schemas.EndReasonGatewayLost)
		}
	}
	for _, id := range []string{onLive, ghostFresh} {
		if got, _ := h.session(t, id); got.EndedAt != nil {
			t.Errorf("session %s of a live gateway closed: %v %q", id, got.EndedAt, got.EndReason)
		}
	}
	if got, _ := h.session(t, alreadyEnded); got.EndReason != schemas.EndReasonClientClosed {
		t.Errorf("already ended session got reason %q, want it kept %q", got.EndReason, schemas.EndReasonClientClosed)
	}

	ended := h.endedMessages(t)
	for id, end := range wantEnd {
		msgs := ended[id]
		if len(msgs) != 1 {
			t.Errorf("session %s: %d ended events in the stream, want 1", id, len(msgs))
			continue
		}
		e := msgs[0].event
		if msgs[0].msgID != "ended:"+id || e.Reason != schemas.EndReasonGatewayLost || !e.EndedAt.Equal(end) ||
			e.UserID != f.user || e.DeviceID != f.uuid || e.OutlineNodeID != f.outline {
			t.Errorf("session %s: ended event %+v with msg id %q", id, e, msgs[0].msgID)
		}
	}
	if e := ended[onDead]; len(e) == 1 && (e[0].event.BytesUp != 300 || e[0].event.BytesDown != 400 || e[0].event.Seq != 3) {
		t.Errorf("ended event of %s carries totals %+v, want the stored 300/400 seq 3", onDead, e[0].event)
	}
	if swept := testutil.ToFloat64(a.svc.m.swept) + testutil.ToFloat64(b.svc.m.swept); swept != 2 {
		t.Errorf("sessions_gateway_lost_total = %v, want 2", swept)
	}

	t.Run("the gateway's own ended event replaces gateway_lost", func(t *testing.T) {
		realEnd := lastBeat.Add(-time.Second)
		f.h.publish(t, schemas.SessionSubject(schemas.SessionEndedEvent, "gw-dead"), "late:"+onDead, schemas.SessionEnded{
			SessionID: onDead, GatewayID: "gw-dead", Region: "ru-1", UserID: f.user, DeviceID: f.uuid,
			StartedAt: start, EndedAt: realEnd, Seq: 4, BytesUp: 350, BytesDown: 450, Reason: schemas.EndReasonShutdown})
		f.settle(t)
		got, _ := h.session(t, onDead)
		if got.EndReason != schemas.EndReasonShutdown || got.EndedAt == nil || !got.EndedAt.Equal(realEnd) || got.BytesUp != 350 {
			t.Errorf("after the gateway's ended: %+v", got)
		}
		if usage := h.periodUsage(t, f.user); usage != (byteTotals{Up: 350, Down: 450}) {
			t.Errorf("period usage %+v, want 350/450", usage)
		}
	})
}
