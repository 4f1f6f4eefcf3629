package usageaggregator

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
)

func TestUsageReset(t *testing.T) {
	h := newHarness(t)
	user := h.createUser(t)
	h.subscribe(t, user, h.createPlan(t, "0.000001"))
	_, device := h.createDevice(t, user)
	rec := h.recordControl(t)
	h.start(t, testConfig())
	report := func(session string, seq uint64, up, down int64) schemas.UsageReport {
		now := time.Now().UTC()
		return schemas.UsageReport{SessionID: session, Seq: seq, GatewayID: "gw-a", Region: "ru-1", UserID: user,
			DeviceID: device, BytesUp: up, BytesDown: down, StartedAt: now, ReportedAt: now}
	}
	session := newSessionID()
	h.publishUsage(t, report(session, 1, 400, 800))
	h.drainedUsage(t)
	reset := func(body string) (schemas.AdminReply, usageResetObject) {
		t.Helper()
		req := schemas.AdminRequest{ID: user}
		if body != "" {
			req.Body = json.RawMessage(body)
		}
		rep, err := h.admin(t, schemas.ResourceUsage, schemas.VerbReset, req)
		if err != nil {
			t.Fatalf("reset: %v", err)
		}
		var out usageResetObject
		if rep.OK {
			if err := json.Unmarshal(rep.Data, &out); err != nil {
				t.Fatal(err)
			}
		}
		return rep, out
	}
	period := periodStart(time.Now()).Format(dateLayout)

	t.Run("the month starts again, its bytes stay on record, live sessions are told", func(t *testing.T) {
		rep, got := reset(`{"reason":"renewed by the shop"}`)
		if !rep.OK || got.BytesUp != 400 || got.BytesDown != 800 || got.TotalBytes != 1200 || got.PeriodStart != period || got.Reason != "renewed by the shop" {
			t.Fatalf("reset = %s", rep.Data)
		}
		if u := h.periodUsage(t, user); u != (byteTotals{}) {
			t.Fatalf("period after the reset = %+v, want zero", u)
		}
		if n := h.count(t, `SELECT count(*) FROM usage_resets WHERE user_id = ? AND bytes_up = 400 AND bytes_down = 800`, user); n != 1 {
			t.Fatalf("usage_resets rows = %d, want 1", n)
		}
		if n := h.count(t, `SELECT count(*) FROM usage_limit_events WHERE user_id = ?`, user); n != 0 {
			t.Fatalf("usage_limit_events rows = %d, want the month's crossing forgotten", n)
		}
		testkit.Eventually(t, waitTimeout, "one refresh event for the user", func() bool {
			n := 0
			for _, ev := range rec.snapshot(t) {
				if ev.What == schemas.ControlRefresh && ev.Scope == schemas.ScopeUser && ev.ID == strconv.FormatInt(user, 10) {
					n++
				}
			}
			return n == 1
		})
	})

	t.Run("later reports count from zero, the session's earlier bytes not again", func(t *testing.T) {
		h.publishUsage(t, report(session, 2, 500, 900))
		h.drainedUsage(t)
		if u := h.periodUsage(t, user); u != (byteTotals{Up: 100, Down: 100}) {
			t.Fatalf("period = %+v, want only the growth since the reset (100 up, 100 down)", u)
		}
	})

	t.Run("the month may cross the limit and notify again", func(t *testing.T) {
		h.publishUsage(t, report(session, 3, 2000, 2000))
		h.drainedUsage(t)
		testkit.Eventually(t, waitTimeout, "a limit event before and one after the reset", func() bool {
			limits := 0
			for _, ev := range rec.snapshot(t) {
				if ev.What == schemas.ControlLimit && ev.ID == strconv.FormatInt(user, 10) {
					limits++
				}
			}
			return limits == 2
		})
	})

	t.Run("without a body the reason is the default", func(t *testing.T) {
		if rep, got := reset(""); !rep.OK || got.Reason != defaultResetReason {
			t.Fatalf("reset = %s", rep.Data)
		}
	})

	for _, tc := range []struct {
		name string
		req  schemas.AdminRequest
		code schemas.ErrorCode
	}{
		{"unknown user", schemas.AdminRequest{ID: 999999}, schemas.CodeNotFound},
		{"no user", schemas.AdminRequest{}, schemas.CodeInvalidArgument},
		{"unknown field", schemas.AdminRequest{ID: user, Body: json.RawMessage(`{"bytes":0}`)}, schemas.CodeInvalidArgument},
		{"reason too long", schemas.AdminRequest{ID: user, Body: json.RawMessage(`{"reason":"` + strings.Repeat("x", maxResetReason+1) + `"}`)}, schemas.CodeInvalidArgument},
		{"reason not text", schemas.AdminRequest{ID: user, Body: json.RawMessage(`{"reason":5}`)}, schemas.CodeInvalidArgument},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := h.admin(t, schemas.ResourceUsage, schemas.VerbReset, tc.req)
			if re, ok := rpc.AsRPCError(err); !ok || re.Code != tc.code || re.Message == "" {
				t.Fatalf("error = %v, want %s with a message", err, tc.code)
			}
		})
	}
}
