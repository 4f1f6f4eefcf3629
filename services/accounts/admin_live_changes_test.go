package accounts

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestPlanUpdate(t *testing.T) {
	e := newEnv(t)
	events := e.watchControl(t)
	var p Plan
	e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: json.RawMessage(
		`{"name":"` + unique("update-") + `","max_devices":3,"traffic_limit_gb":10,"speed_limit_mbps":40,"price":"9.99","currency":"EUR"}`)}, &p)
	u := e.user(t, "")
	e.subscribe(t, u.ID, p.ID, 30)
	d := e.device(t, u.ID)
	patch := func(b string) schemas.AdminRequest { return schemas.AdminRequest{ID: p.ID, Body: json.RawMessage(b)} }
	planID := strconv.FormatInt(p.ID, 10)

	t.Run("changed fields apply, others stay, live sessions are told", func(t *testing.T) {
		var got Plan
		e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbUpdate, patch(`{"speed_limit_mbps":80,"traffic_limit_gb":0.5}`), &got)
		if *got.SpeedLimitMbps != 80 || *got.TrafficLimitGB != "0.5" || got.MaxDevices != 3 || got.Name != p.Name || *got.Price != "9.99" {
			t.Fatalf("plan = %s", mustJSON(t, got))
		}
		ev := events.next(t, schemas.ScopePlan, planID)
		if ev.What != schemas.ControlRefresh || ev.Code != "" {
			t.Fatalf("event = %+v, want refresh without code", ev)
		}
		l := e.validate(t, d).Limits
		if *l.SpeedLimitMbps != 80 || *l.TrafficLimitBytes != 500_000_000 {
			t.Fatalf("limits = %s", mustJSON(t, l))
		}
	})

	t.Run("null clears a limit, a cleared price takes its currency", func(t *testing.T) {
		var got Plan
		e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbUpdate, patch(`{"traffic_limit_gb":null,"price":null}`), &got)
		if got.TrafficLimitGB != nil || got.Price != nil || got.Currency != nil || *got.SpeedLimitMbps != 80 {
			t.Fatalf("plan = %s", mustJSON(t, got))
		}
		if l := e.validate(t, d).Limits; l.TrafficLimitBytes != nil {
			t.Fatalf("limits = %s, want unlimited traffic", mustJSON(t, l))
		}
	})

	t.Run("by name", func(t *testing.T) {
		var got Plan
		e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbUpdate, schemas.AdminRequest{Key: p.Name, Body: json.RawMessage(`{"max_devices":4}`)}, &got)
		if got.ID != p.ID || got.MaxDevices != 4 {
			t.Fatalf("plan = %s", mustJSON(t, got))
		}
	})

	other := e.plan(t, 1, "")
	for _, tc := range []struct {
		name string
		req  schemas.AdminRequest
		code schemas.ErrorCode
	}{
		{"no field", patch(`{}`), schemas.CodeInvalidArgument},
		{"no body", patch(``), schemas.CodeInvalidArgument},
		{"unknown field", patch(`{"devices":2}`), schemas.CodeInvalidArgument},
		{"null name", patch(`{"name":null}`), schemas.CodeInvalidArgument},
		{"null max_devices", patch(`{"max_devices":null}`), schemas.CodeInvalidArgument},
		{"zero traffic", patch(`{"traffic_limit_gb":0}`), schemas.CodeInvalidArgument},
		{"zero speed", patch(`{"speed_limit_mbps":0}`), schemas.CodeInvalidArgument},
		{"speed as text", patch(`{"speed_limit_mbps":"80"}`), schemas.CodeInvalidArgument},
		{"currency without price", patch(`{"currency":"USD"}`), schemas.CodeInvalidArgument},
		{"name of another plan", patch(`{"name":"` + other.Name + `"}`), schemas.CodeConflict},
		{"unknown plan", schemas.AdminRequest{ID: 999999, Body: json.RawMessage(`{"max_devices":2}`)}, schemas.CodeNotFound},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if re := e.adminErr(t, schemas.ResourcePlans, schemas.VerbUpdate, tc.req); re.Code != tc.code || re.Message == "" {
				t.Fatalf("error = %+v, want %s with a message", re, tc.code)
			}
		})
	}
	t.Run("a refused update changes nothing", func(t *testing.T) {
		var got Plan
		e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbGet, schemas.AdminRequest{ID: p.ID}, &got)
		if got.MaxDevices != 4 || *got.SpeedLimitMbps != 80 || got.Name != p.Name {
			t.Fatalf("plan = %s", mustJSON(t, got))
		}
	})
}

func TestSubscriptionChanges(t *testing.T) {
	e := newEnv(t)
	events := e.watchControl(t)
	small, big := e.plan(t, 2, "1"), e.plan(t, 2, "100")
	u := e.user(t, "")
	sub := e.subscribe(t, u.ID, small.ID, 30)
	d := e.device(t, u.ID)
	userID := strconv.FormatInt(u.ID, 10)

	t.Run("moved to another plan: new limits, live sessions told", func(t *testing.T) {
		var got Subscription
		e.mustAdmin(t, schemas.ResourceSubscriptions, schemas.VerbUpdate, schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"plan_id":` + strconv.FormatInt(big.ID, 10) + `}`)}, &got)
		if got.PlanID != big.ID {
			t.Fatalf("subscription = %s", mustJSON(t, got))
		}
		if ev := events.next(t, schemas.ScopeUser, userID); ev.What != schemas.ControlRefresh {
			t.Fatalf("event = %+v, want refresh", ev)
		}
		if l := e.validate(t, d).Limits; *l.TrafficLimitBytes != 100_000_000_000 {
			t.Fatalf("limits = %s", mustJSON(t, l))
		}
	})

	for _, tc := range []struct {
		name string
		req  schemas.AdminRequest
		code schemas.ErrorCode
	}{
		{"no plan", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{}`)}, schemas.CodeInvalidArgument},
		{"unknown plan", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"plan_id":999999}`)}, schemas.CodeNotFound},
		{"unknown subscription", schemas.AdminRequest{ID: 999999, Body: json.RawMessage(`{"plan_id":1}`)}, schemas.CodeNotFound},
		{"other fields", schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"plan_id":1,"days":3}`)}, schemas.CodeInvalidArgument},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if re := e.adminErr(t, schemas.ResourceSubscriptions, schemas.VerbUpdate, tc.req); re.Code != tc.code || re.Message == "" {
				t.Fatalf("error = %+v, want %s with a message", re, tc.code)
			}
		})
	}

	t.Run("a cancelled subscription cannot move", func(t *testing.T) {
		e.mustAdmin(t, schemas.ResourceSubscriptions, schemas.VerbCancel, schemas.AdminRequest{ID: sub.ID}, nil)
		if ev := events.next(t, schemas.ScopeUser, userID); ev.What != schemas.ControlKick || ev.Code != schemas.CodeNoSubscription {
			t.Fatalf("event = %+v, want kick NO_SUBSCRIPTION", ev)
		}
		req := schemas.AdminRequest{ID: sub.ID, Body: json.RawMessage(`{"plan_id":` + strconv.FormatInt(small.ID, 10) + `}`)}
		if re := e.adminErr(t, schemas.ResourceSubscriptions, schemas.VerbUpdate, req); re.Code != schemas.CodeConflict {
			t.Fatalf("error = %+v, want CONFLICT", re)
		}
	})
}
