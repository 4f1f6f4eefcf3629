package accounts

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
)

func TestAdminSubscriptions(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "")
	p := e.plan(t, 3, "")
	start := time.Now()
	sub := e.subscribe(t, u.ID, p.ID, 30)
	if sub.Status != "active" || sub.UserID != u.ID || sub.PlanID != p.ID ||
		sub.ValidUntil.Before(start.AddDate(0, 0, 30)) || sub.ValidUntil.After(time.Now().AddDate(0, 0, 30)) {
		t.Fatalf("create = %+v", sub)
	}
	other := e.user(t, "")
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	var explicit Subscription
	e.mustAdmin(t, "subscriptions", "create", schemas.AdminRequest{Body: body(t,
		fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"valid_until":%q}`, other.ID, p.ID, until.Format(time.RFC3339)))}, &explicit)
	if !explicit.ValidUntil.Equal(until) {
		t.Fatalf("valid_until = %s, want %s", explicit.ValidUntil, until)
	}

	t.Run("create refused", func(t *testing.T) {
		past := time.Now().Add(-time.Hour).Format(time.RFC3339)
		for _, tc := range []struct {
			name, body string
			code       schemas.ErrorCode
		}{
			{"already subscribed", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"days":5}`, u.ID, p.ID), schemas.CodeConflict},
			{"unknown user", fmt.Sprintf(`{"user_id":99999,"plan_id":%d,"days":5}`, p.ID), schemas.CodeNotFound},
			{"unknown plan", fmt.Sprintf(`{"user_id":%d,"plan_id":99999,"days":5}`, u.ID), schemas.CodeNotFound},
			{"no user", fmt.Sprintf(`{"plan_id":%d,"days":5}`, p.ID), schemas.CodeInvalidArgument},
			{"no plan", fmt.Sprintf(`{"user_id":%d,"days":5}`, u.ID), schemas.CodeInvalidArgument},
			{"no duration", fmt.Sprintf(`{"user_id":%d,"plan_id":%d}`, u.ID, p.ID), schemas.CodeInvalidArgument},
			{"both durations", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"days":5,"valid_until":%q}`, u.ID, p.ID, until.Format(time.RFC3339)), schemas.CodeInvalidArgument},
			{"zero days", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"days":0}`, u.ID, p.ID), schemas.CodeInvalidArgument},
			{"past valid_until", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"valid_until":%q}`, u.ID, p.ID, past), schemas.CodeInvalidArgument},
			{"bad valid_until", fmt.Sprintf(`{"user_id":%d,"plan_id":%d,"valid_until":"tomorrow"}`, u.ID, p.ID), schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "subscriptions", "create", schemas.AdminRequest{Body: json.RawMessage(tc.body)}); re.Code != tc.code {
					t.Fatalf("error = %+v, want %s", re, tc.code)
				}
			})
		}
	})

	t.Run("extend active", func(t *testing.T) {
		var got Subscription
		e.mustAdmin(t, "subscriptions", "extend", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"days":10}`)}, &got)
		if want := sub.ValidUntil.AddDate(0, 0, 10); !got.ValidUntil.Equal(want) || got.Status != "active" {
			t.Fatalf("extend = %+v, want valid_until %s", got, want)
		}
		sub = got
	})

	t.Run("extend reactivates expired", func(t *testing.T) {
		e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 day' WHERE id = ?", explicit.ID)
		if _, err := e.svc.sweepExpired(t.Context()); err != nil {
			t.Fatal(err)
		}
		var got Subscription
		e.mustAdmin(t, "subscriptions", "get", schemas.AdminRequest{ID: explicit.ID}, &got)
		if got.Status != "expired" {
			t.Fatalf("after sweep = %+v", got)
		}
		before := time.Now()
		e.mustAdmin(t, "subscriptions", "extend", schemas.AdminRequest{ID: explicit.ID, Body: json.RawMessage(`{"days":7}`)}, &got)
		if got.Status != "active" || got.ValidUntil.Before(before.AddDate(0, 0, 7)) {
			t.Fatalf("extend expired = %+v", got)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		var got Subscription
		e.mustAdmin(t, "subscriptions", "cancel", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"reason":"refund"}`)}, &got)
		if got.Status != "cancelled" {
			t.Fatalf("cancel = %+v", got)
		}
		if re := e.adminErr(t, "subscriptions", "extend", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"days":1}`)}); re.Code != schemas.CodeConflict {
			t.Fatalf("extend cancelled = %+v", re)
		}
		e.subscribe(t, u.ID, p.ID, 1)
	})

	t.Run("list", func(t *testing.T) {
		var subs []Subscription
		rep := e.mustAdmin(t, "subscriptions", "list", schemas.AdminRequest{Filter: map[string]string{"user_id": fmt.Sprint(u.ID)}}, &subs)
		if rep.Total != 2 || len(subs) != 2 || subs[0].ID != sub.ID {
			t.Fatalf("by user = %d, %+v", rep.Total, subs)
		}
		rep = e.mustAdmin(t, "subscriptions", "list", schemas.AdminRequest{Filter: map[string]string{"status": "active"}}, &subs)
		if rep.Total != 2 {
			t.Fatalf("active = %d, %+v", rep.Total, subs)
		}
		rep = e.mustAdmin(t, "subscriptions", "list", schemas.AdminRequest{Filter: map[string]string{"status": "cancelled", "user_id": fmt.Sprint(u.ID)}}, &subs)
		if rep.Total != 1 || subs[0].ID != sub.ID {
			t.Fatalf("cancelled = %d, %+v", rep.Total, subs)
		}
		for _, f := range []map[string]string{{"user_id": "me"}, {"user_id": "0"}, {"status": "paused"}, {"plan_id": "1"}} {
			if re := e.adminErr(t, "subscriptions", "list", schemas.AdminRequest{Filter: f}); re.Code != schemas.CodeInvalidArgument {
				t.Fatalf("filter %v = %+v", f, re)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, verb string
			req        schemas.AdminRequest
			code       schemas.ErrorCode
		}{
			{"get unknown", "get", schemas.AdminRequest{ID: 99999}, schemas.CodeNotFound},
			{"get by key", "get", schemas.AdminRequest{Key: "abc"}, schemas.CodeInvalidArgument},
			{"extend unknown", "extend", schemas.AdminRequest{ID: 99999, Body: json.RawMessage(`{"days":1}`)}, schemas.CodeNotFound},
			{"extend without body", "extend", schemas.AdminRequest{ID: explicit.ID}, schemas.CodeInvalidArgument},
			{"extend too far", "extend", schemas.AdminRequest{ID: explicit.ID, Body: json.RawMessage(`{"days":40000}`)}, schemas.CodeInvalidArgument},
			{"cancel unknown", "cancel", schemas.AdminRequest{ID: 99999}, schemas.CodeNotFound},
			{"cancel bad body", "cancel", schemas.AdminRequest{ID: explicit.ID, Body: json.RawMessage(`{"why":"x"}`)}, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "subscriptions", tc.verb, tc.req); re.Code != tc.code {
					t.Fatalf("error = %+v, want %s", re, tc.code)
				}
			})
		}
	})
}
