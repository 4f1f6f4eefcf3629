package usageaggregator

import (
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type sessionFixture struct {
	h       *harness
	user    int64
	device  int64
	uuid    string
	outline int64
	gateway int64
}

func (h *harness) sessionFixture(t *testing.T) sessionFixture {
	t.Helper()
	user := h.createUser(t)
	device, uuid := h.createDevice(t, user)
	region := h.insertID(t, `INSERT INTO regions (code) VALUES (?) ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id`, "ru-1")
	outline := h.insertID(t, `INSERT INTO outline_nodes (region_id, internal_ip, ss_port, ss_method, ss_password, max_sessions)
		VALUES (?, '10.0.0.1', ?, 'chacha20-ietf-poly1305', 'secret', 100) RETURNING id`, region, 1000+seedSeq.Add(1))
	gateway := h.insertID(t, `INSERT INTO gateway_nodes (name, last_heartbeat_at) VALUES ('gw-a', now())
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`)
	return sessionFixture{h: h, user: user, device: device, uuid: uuid, outline: outline, gateway: gateway}
}

func (f sessionFixture) started(t *testing.T, id string, at time.Time) {
	t.Helper()
	f.startedOn(t, id, "gw-a", at)
}

func (f sessionFixture) startedOn(t *testing.T, id, gateway string, at time.Time) {
	t.Helper()
	e := schemas.SessionStarted{SessionID: id, GatewayID: gateway, Region: "ru-1", UserID: f.user, DeviceID: f.uuid,
		OutlineNodeID: f.outline, ClientVersion: "1.0.0", Platform: "linux", StartedAt: at}
	f.h.publish(t, schemas.SessionSubject(schemas.SessionStartedEvent, e.GatewayID), "started:"+id, e)
}

func (f sessionFixture) ended(t *testing.T, id string, start, end time.Time, seq uint64, up, down int64, reason, msgID string) {
	t.Helper()
	e := schemas.SessionEnded{SessionID: id, GatewayID: "gw-a", Region: "ru-1", UserID: f.user, DeviceID: f.uuid,
		OutlineNodeID: f.outline, StartedAt: start, EndedAt: end, Seq: seq, BytesUp: up, BytesDown: down, Reason: reason}
	f.h.publish(t, schemas.SessionSubject(schemas.SessionEndedEvent, e.GatewayID), msgID, e)
}

func (f sessionFixture) usage(t *testing.T, id string, seq uint64, up, down int64, withUser bool) {
	t.Helper()
	f.usageOn(t, id, "gw-a", seq, up, down, withUser)
}

func (f sessionFixture) usageOn(t *testing.T, id, gateway string, seq uint64, up, down int64, withUser bool) {
	t.Helper()
	now := time.Now().UTC()
	r := schemas.UsageReport{SessionID: id, Seq: seq, GatewayID: gateway, Region: "ru-1", DeviceID: f.uuid,
		OutlineNodeID: f.outline, BytesUp: up, BytesDown: down, StartedAt: now.Add(-time.Minute), ReportedAt: now}
	if withUser {
		r.UserID = f.user
	}
	f.h.publishUsage(t, r)
}

func (f sessionFixture) settle(t *testing.T) {
	t.Helper()
	f.h.drainedUsage(t)
	f.h.drainedSessions(t)
}

func TestSessionEvents(t *testing.T) {
	h := newHarness(t)
	h.start(t, testConfig())
	start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	end := start.Add(5 * time.Minute)

	cases := []struct {
		name       string
		run        func(t *testing.T, f sessionFixture, id string)
		up, down   int64
		seq        int64
		endReason  string
		wantClosed bool
	}{
		{
			name: "started then ended",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.started(t, id, start)
				f.settle(t)
				f.ended(t, id, start, end, 9, 1000, 2000, schemas.EndReasonClientClosed, "ended:"+id)
			},
			up: 1000, down: 2000, seq: 9, endReason: schemas.EndReasonClientClosed, wantClosed: true,
		},
		{
			name: "ended before started",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.ended(t, id, start, end, 4, 10, 20, schemas.EndReasonKicked, "ended:"+id)
				f.settle(t)
				f.started(t, id, start)
			},
			up: 10, down: 20, seq: 4, endReason: schemas.EndReasonKicked, wantClosed: true,
		},
		{
			name: "started only",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.started(t, id, start)
			},
			wantClosed: false,
		},
		{
			name: "reports then ended with the same final totals, redelivered ended",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.usage(t, id, 1, 100, 100, true)
				f.usage(t, id, 3, 300, 700, true)
				f.usage(t, id, 2, 200, 500, true)
				f.settle(t)
				f.ended(t, id, start, end, 5, 500, 900, schemas.EndReasonIdle, "ended:"+id)
				f.ended(t, id, start, end, 5, 500, 900, schemas.EndReasonIdle, "again:"+id)
				f.started(t, id, start)
			},
			up: 500, down: 900, seq: 5, endReason: schemas.EndReasonIdle, wantClosed: true,
		},
		{
			name: "late reports after ended change nothing",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.started(t, id, start)
				f.ended(t, id, start, end, 8, 800, 800, schemas.EndReasonClientClosed, "ended:"+id)
				f.settle(t)
				f.usage(t, id, 7, 700, 700, true)
				f.usage(t, id, 8, 800, 800, true)
			},
			up: 800, down: 800, seq: 8, endReason: schemas.EndReasonClientClosed, wantClosed: true,
		},
		{
			name: "reports without user_id resolve the user by device",
			run: func(t *testing.T, f sessionFixture, id string) {
				f.usage(t, id, 1, 50, 60, false)
				f.usage(t, id, 2, 70, 80, false)
			},
			up: 70, down: 80, seq: 2,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := h.sessionFixture(t)
			id := newSessionID()
			c.run(t, f, id)
			f.settle(t)
			got, ok := h.session(t, id)
			if !ok {
				t.Fatalf("session row missing")
			}
			if got.UserID != f.user || got.DeviceID != f.device || got.Gateway != "gw-a" || got.GatewayID != f.gateway ||
				got.Outline != f.outline || got.Region != "ru-1" {
				t.Errorf("session identity %+v, want user %d device %d gateway gw-a/%d outline %d region ru-1",
					got, f.user, f.device, f.gateway, f.outline)
			}
			if got.BytesUp != c.up || got.BytesDown != c.down || got.LastSeq != c.seq {
				t.Errorf("totals up=%d down=%d seq=%d, want %d %d %d", got.BytesUp, got.BytesDown, got.LastSeq, c.up, c.down, c.seq)
			}
			if c.wantClosed {
				if got.EndedAt == nil || !got.EndedAt.Equal(end) || got.EndReason != c.endReason {
					t.Errorf("ended_at %v reason %q, want %v %q", got.EndedAt, got.EndReason, end, c.endReason)
				}
			} else if got.EndedAt != nil {
				t.Errorf("session closed at %v (%s), want open", got.EndedAt, got.EndReason)
			}
			if c.wantClosed || c.name == "started only" {
				if !got.StartedAt.Equal(start) {
					t.Errorf("started_at %v, want %v", got.StartedAt, start)
				}
			}
			if usage := h.periodUsage(t, f.user); usage != (byteTotals{Up: c.up, Down: c.down}) {
				t.Errorf("user period usage %+v, want up=%d down=%d", usage, c.up, c.down)
			}
		})
	}
}

func TestUsageOfAnUnknownDeviceCreditsNobody(t *testing.T) {
	h := newHarness(t)
	svc := h.start(t, testConfig())
	f := h.sessionFixture(t)
	f.uuid = "device-not-registered"
	id := newSessionID()
	f.usage(t, id, 1, 300, 400, true)
	f.ended(t, id, time.Now().Add(-time.Minute), time.Now(), 2, 500, 600, schemas.EndReasonClientClosed, "ended:"+id)
	f.settle(t)
	got, ok := h.session(t, id)
	if !ok || got.UserID != 0 || got.BytesUp != 0 || got.BytesDown != 0 || got.EndedAt == nil {
		t.Fatalf("session of an unknown device: stored=%v %+v, want an ended row without user and without totals", ok, got)
	}
	if n := h.count(t, `SELECT count(*) FROM usage_periods`); n != 0 {
		t.Fatalf("usage_periods rows = %d, want none: the reports named user %d, but no device of theirs", n, f.user)
	}
	if n := testutil.ToFloat64(svc.svc.m.unattributed); n != 2 {
		t.Errorf("reports_unattributed_total = %v, want 2", n)
	}
}
