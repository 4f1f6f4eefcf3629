package accounts

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
)

func signToken(tb testing.TB, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestValidateDeviceOutcomes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type setup func(t *testing.T) schemas.ValidateDeviceRequest
	req := func(d IssuedDevice) schemas.ValidateDeviceRequest {
		return schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: d.AccessToken, Region: testRegion, ClientVersion: "1.0.0", Platform: "android"}
	}
	for _, tc := range []struct {
		name  string
		code  string
		limit schemas.LimitKind
		setup setup
	}{
		{"ok", "ok", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			_, d := e.subscriber(t, 3, "")
			return req(d)
		}},
		{"garbage token", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			_, d := e.subscriber(t, 3, "")
			d.AccessToken = "not-a-token"
			return req(d)
		}},
		{"token signed with another key", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": d.DeviceUUID, "uid": u.ID, "ver": 1}).
				SignedString([]byte("another-secret-another-secret-another"))
			d.AccessToken = tok
			return req(d)
		}},
		{"expired token", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			d.AccessToken = signToken(t, jwt.MapClaims{"sub": d.DeviceUUID, "uid": u.ID, "ver": 1, "exp": time.Now().Add(-time.Minute).Unix()})
			return req(d)
		}},
		{"token of another device", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			other := e.device(t, u.ID)
			d.AccessToken = other.AccessToken
			return req(d)
		}},
		{"device not found", "DEVICE_NOT_FOUND", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			uuid := unique("ghost-")
			return schemas.ValidateDeviceRequest{DeviceID: uuid, Region: testRegion,
				AccessToken: signToken(t, jwt.MapClaims{"sub": uuid, "uid": 1, "ver": 1})}
		}},
		{"device revoked", "DEVICE_REVOKED", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			_, d := e.subscriber(t, 3, "")
			e.mustAdmin(t, schemas.ResourceDevices, schemas.VerbRevoke, schemas.AdminRequest{ID: d.ID}, nil)
			return req(d)
		}},
		{"token rotated", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			_, d := e.subscriber(t, 3, "")
			e.mustAdmin(t, schemas.ResourceDevices, schemas.VerbRotate, schemas.AdminRequest{ID: d.ID}, nil)
			return req(d)
		}},
		{"token of another user", "INVALID_TOKEN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			d.AccessToken = signToken(t, jwt.MapClaims{"sub": d.DeviceUUID, "uid": u.ID + 1000, "ver": 1})
			return req(d)
		}},
		{"user banned", "USER_BANNED", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			e.mustAdmin(t, schemas.ResourceUsers, schemas.VerbSetStatus, schemas.AdminRequest{ID: u.ID, Body: body(t, `{"status":"banned"}`)}, nil)
			return req(d)
		}},
		{"user pending", "NO_SUBSCRIPTION", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			e.mustAdmin(t, schemas.ResourceUsers, schemas.VerbSetStatus, schemas.AdminRequest{ID: u.ID, Body: body(t, `{"status":"pending"}`)}, nil)
			return req(d)
		}},
		{"no subscription", "NO_SUBSCRIPTION", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u := e.user(t, "")
			return req(e.device(t, u.ID))
		}},
		{"subscription cancelled", "NO_SUBSCRIPTION", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u := e.user(t, "")
			s := e.subscribe(t, u.ID, e.plan(t, 3, "").ID, 30)
			e.mustAdmin(t, schemas.ResourceSubscriptions, schemas.VerbCancel, schemas.AdminRequest{ID: s.ID}, nil)
			return req(e.device(t, u.ID))
		}},
		{"subscription past valid_until", "SUBSCRIPTION_EXPIRED", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 hour' WHERE user_id = ?", u.ID)
			return req(d)
		}},
		{"subscription marked expired", "SUBSCRIPTION_EXPIRED", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "")
			e.exec(t, "UPDATE subscriptions SET valid_until = now() - interval '1 hour' WHERE user_id = ?", u.ID)
			if _, err := e.svc.sweepExpired(ctx); err != nil {
				t.Fatal(err)
			}
			return req(d)
		}},
		{"device limit", "DEVICE_LIMIT_REACHED", schemas.LimitDevices, func(t *testing.T) schemas.ValidateDeviceRequest {
			u := e.user(t, "")
			first := e.device(t, u.ID)
			second := e.device(t, u.ID)
			e.subscribe(t, u.ID, e.plan(t, 1, "").ID, 30)
			if rep := e.validate(t, first); !rep.OK {
				t.Fatalf("first device: %+v", rep.Error)
			}
			return req(second)
		}},
		{"traffic limit", "LIMIT_REACHED", schemas.LimitTraffic, func(t *testing.T) schemas.ValidateDeviceRequest {
			u, d := e.subscriber(t, 3, "1.5")
			e.exec(t, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down)
				VALUES (?, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 500000000, 1000000000)`, u.ID)
			return req(d)
		}},
		{"unknown region", "REGION_UNKNOWN", "", func(t *testing.T) schemas.ValidateDeviceRequest {
			_, d := e.subscriber(t, 3, "")
			r := req(d)
			r.Region = "mars-1"
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := e.validateReq(t, tc.setup(t))
			if got := refusal(rep); got != tc.code {
				t.Fatalf("result = %s (%+v), want %s", got, rep.Error, tc.code)
			}
			if rep.OK {
				return
			}
			if rep.Error.Limit != tc.limit || rep.Error.Message == "" || rep.UserID != 0 || rep.Device != nil {
				t.Fatalf("refusal = %+v, want limit %q, a message and nothing else", rep.Error, tc.limit)
			}
		})
	}
	for _, code := range []string{"ok", "INVALID_TOKEN", "DEVICE_NOT_FOUND", "DEVICE_REVOKED", "USER_BANNED", "NO_SUBSCRIPTION",
		"SUBSCRIPTION_EXPIRED", "DEVICE_LIMIT_REACHED", "LIMIT_REACHED", "REGION_UNKNOWN"} {
		if n := counterValue(t, e.reg, "httvps_accounts_validations_total", "result", code); n == 0 {
			t.Errorf("validations_total{result=%q} = 0", code)
		}
	}
}

func TestValidateDeviceReply(t *testing.T) {
	e := newEnv(t)
	u, d := e.subscriber(t, 2, "10")
	e.exec(t, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down)
		VALUES (?, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1000, 2000)`, u.ID)
	e.exec(t, `INSERT INTO usage_periods (user_id, period_start, bytes_up, bytes_down)
		VALUES (?, date_trunc('month', now() AT TIME ZONE 'UTC' - interval '1 month')::date, 9000000000000, 0)`, u.ID)
	rep := e.validate(t, d)
	if !rep.OK {
		t.Fatalf("refused: %+v", rep.Error)
	}
	limit, remaining := int64(10_000_000_000), int64(10_000_000_000-3000)
	want := schemas.ValidateDeviceReply{
		OK:     true,
		UserID: u.ID,
		Device: &schemas.DeviceInfo{ID: d.ID, DeviceID: d.DeviceUUID, Platform: "android", Status: "active"},
		Limits: &schemas.AccountLimits{MaxDevices: 2, ActiveDevices: 1, TrafficLimitBytes: &limit, UsedBytes: 3000, RemainingBytes: &remaining, MaxSessions: 2},
	}
	got := rep
	got.Subscription = nil
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("reply\n got %s\nwant %s", a, b)
	}
	if s := rep.Subscription; s == nil || s.Status != "active" || s.PlanName == "" || time.Until(s.ValidUntil) < 29*24*time.Hour {
		t.Fatalf("subscription = %+v", rep.Subscription)
	}

	unlimitedUser, unlimited := e.subscriber(t, 1, "")
	rep = e.validate(t, unlimited)
	if !rep.OK || rep.UserID != unlimitedUser.ID || rep.Limits.TrafficLimitBytes != nil || rep.Limits.RemainingBytes != nil {
		t.Fatalf("unlimited plan reply = %s", mustJSON(t, rep))
	}
}

func TestValidateDeviceMalformed(t *testing.T) {
	e := newEnv(t)
	_, d := e.subscriber(t, 3, "")
	for _, tc := range []struct {
		name, payload string
	}{
		{"not json", `{"device_id":`},
		{"unknown field", `{"device_id":"` + d.DeviceUUID + `","access_token":"x","region":"eu-1","extra":1}`},
		{"missing device_id", `{"access_token":"` + d.AccessToken + `","region":"eu-1"}`},
		{"device_id with a dot", `{"device_id":"a.b","access_token":"x","region":"eu-1"}`},
		{"missing access_token", `{"device_id":"` + d.DeviceUUID + `","region":"eu-1"}`},
		{"missing region", `{"device_id":"` + d.DeviceUUID + `","access_token":"` + d.AccessToken + `"}`},
		{"region wildcard", `{"device_id":"` + d.DeviceUUID + `","access_token":"` + d.AccessToken + `","region":"eu.*"}`},
		{"device_id as number", `{"device_id":5,"access_token":"x","region":"eu-1"}`},
		{"trailing data", `{"device_id":"` + d.DeviceUUID + `","access_token":"x","region":"eu-1"} {}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := e.nc.Request(schemas.SubjectValidateDevice, []byte(tc.payload), callTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if code := msg.Header.Get("Nats-Service-Error-Code"); code != string(schemas.CodeInvalidArgument) {
				t.Fatalf("error code = %q (%s), want INVALID_ARGUMENT", code, msg.Data)
			}
			if msg.Header.Get("Nats-Service-Error") == "" {
				t.Fatal("no error message")
			}
		})
	}
	if rep := e.validate(t, d); !rep.OK {
		t.Fatalf("after bad requests the device is refused: %+v", rep.Error)
	}
}

func TestTokenRotation(t *testing.T) {
	e := newEnv(t)
	events := e.watchControl(t)
	_, d := e.subscriber(t, 3, "")
	if rep := e.validate(t, d); !rep.OK {
		t.Fatalf("before rotation: %+v", rep.Error)
	}
	var rotated IssuedDevice
	e.mustAdmin(t, schemas.ResourceDevices, schemas.VerbRotate, schemas.AdminRequest{Key: d.DeviceUUID}, &rotated)
	if rotated.AccessToken == "" || rotated.AccessToken == d.AccessToken || rotated.TokenVersion != d.TokenVersion+1 {
		t.Fatalf("rotate = %+v", rotated)
	}
	ev := events.next(t, schemas.ScopeDevice, d.DeviceUUID)
	if ev.What != schemas.ControlRevoke || ev.Code != schemas.CodeInvalidToken {
		t.Fatalf("event = %+v", ev)
	}
	if rep := e.validate(t, d); refusal(rep) != "INVALID_TOKEN" {
		t.Fatalf("old token: %s", refusal(rep))
	}
	if rep := e.validate(t, rotated); !rep.OK {
		t.Fatalf("new token: %+v", rep.Error)
	}
}

func TestLastSeenUpdated(t *testing.T) {
	t.Run("batched", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.LastSeenInterval = 20 * time.Millisecond })
		_, d := e.subscriber(t, 3, "")
		if d.LastSeenAt != nil {
			t.Fatalf("new device last_seen_at = %v", d.LastSeenAt)
		}
		before := time.Now().Add(-time.Second)
		if rep := e.validate(t, d); !rep.OK {
			t.Fatal(rep.Error)
		}
		testkit.Eventually(t, 5*time.Second, "last_seen_at set", func() bool {
			got := e.getDevice(t, d.ID)
			return got.LastSeenAt != nil && got.LastSeenAt.After(before)
		})
	})
	t.Run("flushed on shutdown", func(t *testing.T) {
		e := newEnv(t)
		_, d := e.subscriber(t, 3, "")
		if rep := e.validate(t, d); !rep.OK {
			t.Fatal(rep.Error)
		}
		if got := e.getDevice(t, d.ID); got.LastSeenAt != nil {
			t.Fatalf("written before the interval: %v", got.LastSeenAt)
		}
		e.stop()
		var seen *time.Time
		if err := e.db.NewRaw("SELECT last_seen_at FROM devices WHERE id = ?", d.ID).Scan(context.Background(), &seen); err != nil {
			t.Fatal(err)
		}
		if seen == nil {
			t.Fatal("last_seen_at not flushed on shutdown")
		}
	})
}

func (e *testEnv) getDevice(tb testing.TB, id int64) Device {
	tb.Helper()
	var d Device
	e.mustAdmin(tb, schemas.ResourceDevices, schemas.VerbGet, schemas.AdminRequest{ID: id}, &d)
	return d
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
