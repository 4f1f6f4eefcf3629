package accounts

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestUserLimits(t *testing.T) {
	e := newEnv(t)
	events := e.watchControl(t)
	u := e.user(t, "")
	var p Plan
	e.mustAdmin(t, schemas.ResourcePlans, schemas.VerbCreate, schemas.AdminRequest{Body: json.RawMessage(
		`{"name":"` + unique("limits-") + `","max_devices":3,"traffic_limit_gb":10,"max_sessions":2,"speed_limit_mbps":40}`)}, &p)
	if p.MaxSessions == nil || *p.MaxSessions != 2 || p.SpeedLimitMbps == nil || *p.SpeedLimitMbps != 40 {
		t.Fatalf("plan = %+v", p)
	}
	e.subscribe(t, u.ID, p.ID, 30)
	d := e.device(t, u.ID)
	set := func(b string) schemas.AdminRequest { return schemas.AdminRequest{ID: u.ID, Body: json.RawMessage(b)} }

	t.Run("plan values without overrides", func(t *testing.T) {
		l := e.validate(t, d).Limits
		if l.MaxSessions != 2 || l.SpeedLimitMbps == nil || *l.SpeedLimitMbps != 40 || *l.TrafficLimitBytes != 10_000_000_000 {
			t.Fatalf("limits = %s", mustJSON(t, l))
		}
	})

	t.Run("overrides win and are shown", func(t *testing.T) {
		var got User
		e.mustAdmin(t, schemas.ResourceUsers, schemas.VerbLimits, set(`{"traffic_limit_gb":0.002,"speed_limit_mbps":5,"max_sessions":1}`), &got)
		if got.Limits.TrafficLimitGB == nil || *got.Limits.TrafficLimitGB != "0.002" || *got.Limits.SpeedLimitMbps != 5 || *got.Limits.MaxSessions != 1 {
			t.Fatalf("user = %s", mustJSON(t, got))
		}
		ev := events.next(t, schemas.ScopeUser, strconv.FormatInt(u.ID, 10))
		if ev.What != schemas.ControlRefresh || ev.Code != "" {
			t.Fatalf("event = %+v, want refresh without code", ev)
		}
		var fetched User
		e.mustAdmin(t, schemas.ResourceUsers, schemas.VerbGet, schemas.AdminRequest{ID: u.ID}, &fetched)
		if mustJSON(t, fetched.Limits) != mustJSON(t, got.Limits) {
			t.Fatalf("get shows %s, want %s", mustJSON(t, fetched.Limits), mustJSON(t, got.Limits))
		}
		l := e.validate(t, d).Limits
		if l.MaxSessions != 1 || *l.SpeedLimitMbps != 5 || *l.TrafficLimitBytes != 2_000_000 {
			t.Fatalf("limits = %s", mustJSON(t, l))
		}
	})

	t.Run("null clears an override", func(t *testing.T) {
		e.mustAdmin(t, schemas.ResourceUsers, schemas.VerbLimits, set(`{"traffic_limit_gb":null,"speed_limit_mbps":null,"max_sessions":null}`), nil)
		l := e.validate(t, d).Limits
		if l.MaxSessions != 2 || *l.SpeedLimitMbps != 40 || *l.TrafficLimitBytes != 10_000_000_000 {
			t.Fatalf("limits = %s", mustJSON(t, l))
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  schemas.AdminRequest
			code schemas.ErrorCode
		}{
			{"field missing", set(`{"traffic_limit_gb":1,"speed_limit_mbps":null}`), schemas.CodeInvalidArgument},
			{"zero traffic", set(`{"traffic_limit_gb":0,"speed_limit_mbps":null,"max_sessions":null}`), schemas.CodeInvalidArgument},
			{"negative traffic", set(`{"traffic_limit_gb":-1,"speed_limit_mbps":null,"max_sessions":null}`), schemas.CodeInvalidArgument},
			{"zero speed", set(`{"traffic_limit_gb":null,"speed_limit_mbps":0,"max_sessions":null}`), schemas.CodeInvalidArgument},
			{"fractional speed", set(`{"traffic_limit_gb":null,"speed_limit_mbps":1.5,"max_sessions":null}`), schemas.CodeInvalidArgument},
			{"too many sessions", set(`{"traffic_limit_gb":null,"speed_limit_mbps":null,"max_sessions":1001}`), schemas.CodeInvalidArgument},
			{"sessions as text", set(`{"traffic_limit_gb":null,"speed_limit_mbps":null,"max_sessions":"2"}`), schemas.CodeInvalidArgument},
			{"unknown field", set(`{"traffic_limit_gb":null,"speed_limit_mbps":null,"max_sessions":null,"devices":2}`), schemas.CodeInvalidArgument},
			{"no body", set(``), schemas.CodeInvalidArgument},
			{"unknown user", schemas.AdminRequest{ID: 999999, Body: json.RawMessage(`{"traffic_limit_gb":null,"speed_limit_mbps":null,"max_sessions":null}`)}, schemas.CodeNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, schemas.ResourceUsers, schemas.VerbLimits, tc.req); re.Code != tc.code || re.Message == "" {
					t.Fatalf("error = %+v, want %s with a message", re, tc.code)
				}
			})
		}
	})

	t.Run("plan refuses bad limits", func(t *testing.T) {
		for _, b := range []string{`"max_sessions":0`, `"speed_limit_mbps":0`, `"max_sessions":1001`, `"speed_limit_mbps":1000001`} {
			req := schemas.AdminRequest{Body: json.RawMessage(`{"name":"` + unique("bad-") + `","max_devices":1,` + b + `}`)}
			if re := e.adminErr(t, schemas.ResourcePlans, schemas.VerbCreate, req); re.Code != schemas.CodeInvalidArgument {
				t.Errorf("%s: error = %+v, want INVALID_ARGUMENT", b, re)
			}
		}
	})
}
