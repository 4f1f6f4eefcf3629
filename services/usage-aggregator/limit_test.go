package usageaggregator

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type controlRecorder struct {
	mu     sync.Mutex
	events []schemas.ControlEvent
	nc     *nats.Conn
}

func (h *harness) recordControl(t *testing.T) *controlRecorder {
	t.Helper()
	rec := &controlRecorder{nc: h.nats.Conn(t)}
	_, err := rec.nc.Subscribe(schemas.SubjectControlAll, func(m *nats.Msg) {
		var ev schemas.ControlEvent
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Errorf("control event %s: %v", m.Subject, err)
			return
		}
		if m.Subject != ev.Subject() {
			t.Errorf("control event on %s, its subject is %s", m.Subject, ev.Subject())
		}
		rec.mu.Lock()
		rec.events = append(rec.events, ev)
		rec.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("subscribe control: %v", err)
	}
	if err := rec.nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	return rec
}

// snapshot returns the events received so far; the flush makes sure every event the server
// routed before now has been delivered.
func (r *controlRecorder) snapshot(t *testing.T) []schemas.ControlEvent {
	t.Helper()
	if err := r.nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]schemas.ControlEvent(nil), r.events...)
}

func TestLimitCrossingPublishesOnce(t *testing.T) {
	h := newHarness(t)
	limited, unlimited, unsubscribed := h.createUser(t), h.createUser(t), h.createUser(t)
	h.subscribe(t, limited, h.createPlan(t, "0.000001"))
	h.subscribe(t, unlimited, h.createPlan(t, ""))
	devices := map[int64]string{}
	for _, u := range []int64{limited, unlimited, unsubscribed} {
		_, devices[u] = h.createDevice(t, u)
	}
	rec := h.recordControl(t)
	cfg := testConfig()
	a, b := h.start(t, cfg), h.start(t, cfg)

	report := func(user int64, session string, seq uint64, up, down int64) schemas.UsageReport {
		now := time.Now().UTC()
		return schemas.UsageReport{SessionID: session, Seq: seq, GatewayID: "gw-a", Region: "ru-1", UserID: user,
			DeviceID: devices[user], BytesUp: up, BytesDown: down, StartedAt: now, ReportedAt: now}
	}
	first, second := newSessionID(), newSessionID()
	h.publishUsage(t, report(limited, first, 1, 100, 300))
	h.publishUsage(t, report(limited, first, 2, 200, 700))
	h.drainedUsage(t)
	if got := rec.snapshot(t); len(got) != 0 {
		t.Fatalf("control events below the limit (900 of 1000 bytes): %+v", got)
	}

	h.publishUsage(t, report(limited, first, 3, 300, 800))
	h.publishUsage(t, report(limited, second, 1, 5000, 5000))
	h.publishUsage(t, report(limited, first, 4, 400, 900))
	for _, u := range []int64{unlimited, unsubscribed} {
		h.publishUsage(t, report(u, newSessionID(), 1, 1e9, 1e9))
	}
	h.drainedUsage(t)

	events := rec.snapshot(t)
	want := schemas.ControlEvent{Scope: schemas.ScopeUser, ID: strconv.FormatInt(limited, 10), What: schemas.ControlLimit,
		Code: schemas.CodeLimitReached, Limit: schemas.LimitTraffic, Reason: limitReason}
	if len(events) != 1 {
		t.Fatalf("got %d control events, want exactly one: %+v", len(events), events)
	}
	got := events[0]
	got.IssuedAt = time.Time{}
	if got != want {
		t.Errorf("control event %+v, want %+v", got, want)
	}
	if n := h.count(t, `SELECT count(*) FROM usage_limit_events WHERE user_id = ? AND period_start = ?`,
		limited, periodStart(time.Now()).Format(dateLayout)); n != 1 {
		t.Errorf("usage_limit_events rows for the limited user: %d, want 1", n)
	}
	if n := h.count(t, `SELECT count(*) FROM usage_limit_events WHERE user_id <> ?`, limited); n != 0 {
		t.Errorf("usage_limit_events rows for unlimited or unsubscribed users: %d, want 0", n)
	}
	if got, want := h.periodUsage(t, limited), (byteTotals{Up: 5400, Down: 5900}); got != want {
		t.Errorf("period usage of the limited user %+v, want %+v", got, want)
	}
	if sent := testutil.ToFloat64(a.svc.m.limitEvents) + testutil.ToFloat64(b.svc.m.limitEvents); sent != 1 {
		t.Errorf("limit_events_total = %v, want 1", sent)
	}
}
