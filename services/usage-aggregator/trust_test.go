package usageaggregator

import (
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
)

// TestTheAggregatorDerivesWhatGatewaysClaim: a gateway's report cannot charge another user, write
// under another gateway, grow another gateway's session or move usage into another month.
func TestTheAggregatorDerivesWhatGatewaysClaim(t *testing.T) {
	h := newHarness(t)
	adv := h.recordTerminations(t)
	h.start(t, testConfig())
	owner := h.sessionFixture(t)
	victim := h.sessionFixture(t)
	now := time.Now().UTC()
	report := func(id, gateway string, seq uint64, up int64) schemas.UsageReport {
		return schemas.UsageReport{SessionID: id, Seq: seq, GatewayID: gateway, Region: "ru-1", DeviceID: owner.uuid,
			OutlineNodeID: owner.outline, BytesUp: up, BytesDown: up, StartedAt: now, ReportedAt: now}
	}

	t.Run("a report naming another user charges the device's owner", func(t *testing.T) {
		id := newSessionID()
		r := report(id, "gw-a", 1, 1000)
		r.UserID = victim.user
		h.publishUsage(t, r)
		owner.settle(t)
		if got, _ := h.session(t, id); got.UserID != owner.user {
			t.Fatalf("session user %d, want the device owner %d", got.UserID, owner.user)
		}
		if u := h.periodUsage(t, victim.user); u != (byteTotals{}) {
			t.Fatalf("the named user was charged %+v", u)
		}
	})

	t.Run("a session event naming another user is stored under the device's owner", func(t *testing.T) {
		id := newSessionID()
		e := schemas.SessionStarted{SessionID: id, GatewayID: "gw-a", Region: "ru-1", UserID: victim.user, DeviceID: owner.uuid,
			OutlineNodeID: owner.outline, StartedAt: now}
		h.publish(t, schemas.SessionSubject(schemas.SessionStartedEvent, "gw-a"), "started:"+id, e)
		owner.settle(t)
		if got, _ := h.session(t, id); got.UserID != owner.user {
			t.Fatalf("session user %d, want %d", got.UserID, owner.user)
		}
	})

	t.Run("a body naming another gateway than its subject is refused", func(t *testing.T) {
		id := newSessionID()
		seq := h.publish(t, schemas.UsageSubject("ru-1", "gw-b"), "", report(id, "gw-a", 1, 500))
		var reason string
		testkit.Eventually(t, waitTimeout, "termination advisory", func() bool {
			var ok bool
			reason, ok = adv.reason(schemas.StreamUsage, seq)
			return ok
		})
		if !strings.Contains(reason, `gateway_id: "gw-a" differs from the gateway of subject httvps.usage.ru-1.gw-b`) {
			t.Fatalf("terminated with %q", reason)
		}
		started := schemas.SessionStarted{SessionID: id, GatewayID: "gw-a", Region: "ru-1", DeviceID: owner.uuid, StartedAt: now}
		seq = h.publish(t, schemas.SessionSubject(schemas.SessionStartedEvent, "gw-b"), "", started)
		testkit.Eventually(t, waitTimeout, "termination advisory", func() bool {
			reason, _ = adv.reason(schemas.StreamSessions, seq)
			return reason != ""
		})
		if !strings.Contains(reason, "differs from the gateway of subject") {
			t.Fatalf("terminated with %q", reason)
		}
		owner.settle(t)
		if _, ok := h.session(t, id); ok {
			t.Fatal("a refused report created a session")
		}
	})

	t.Run("another gateway cannot grow or end a session it does not own", func(t *testing.T) {
		id := newSessionID()
		owner.startedOn(t, id, "gw-a", now)
		h.publishUsage(t, report(id, "gw-a", 1, 100))
		owner.settle(t)
		before := h.periodUsage(t, owner.user)
		h.publishUsage(t, report(id, "gw-b", 9, 1<<40))
		h.publish(t, schemas.SessionSubject(schemas.SessionEndedEvent, "gw-b"), "ended-by-b:"+id, schemas.SessionEnded{
			SessionID: id, GatewayID: "gw-b", Region: "ru-1", DeviceID: owner.uuid, StartedAt: now, EndedAt: now,
			Seq: 10, BytesUp: 1 << 41, BytesDown: 1 << 41, Reason: schemas.EndReasonClientClosed})
		owner.settle(t)
		got, _ := h.session(t, id)
		if got.BytesUp != 100 || got.Gateway != "gw-a" || got.EndedAt != nil {
			t.Fatalf("session after gw-b's reports: %+v", got)
		}
		if after := h.periodUsage(t, owner.user); after != before {
			t.Fatalf("usage moved from %+v to %+v", before, after)
		}
	})

	t.Run("a skewed gateway clock books usage in the server's month", func(t *testing.T) {
		for name, skew := range map[string]time.Duration{"a year behind": -365 * 24 * time.Hour, "a year ahead": 365 * 24 * time.Hour} {
			t.Run(name, func(t *testing.T) {
				month := periodStart(time.Now()).Format(dateLayout)
				monthUp := func() int {
					return h.count(t, `SELECT COALESCE(sum(bytes_up), 0)::int FROM usage_periods WHERE user_id = ? AND period_start = ?`, owner.user, month)
				}
				before := monthUp()
				id := newSessionID()
				r := report(id, "gw-a", 1, 700)
				r.ReportedAt, r.StartedAt = now.Add(skew), now.Add(skew)
				h.publishUsage(t, r)
				owner.settle(t)
				if grown := monthUp() - before; grown != 700 {
					t.Fatalf("the server's month grew by %d, want 700", grown)
				}
				skewed := periodStart(now.Add(skew)).Format(dateLayout)
				if n := h.count(t, `SELECT count(*) FROM usage_periods WHERE user_id = ? AND period_start = ?`, owner.user, skewed); n != 0 {
					t.Fatalf("usage booked in the gateway's month %s", skewed)
				}
			})
		}
	})
}
