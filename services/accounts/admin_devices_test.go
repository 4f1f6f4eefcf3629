package accounts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestAdminDevices(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "")
	e.subscribe(t, u.ID, e.plan(t, 2, "").ID, 30)

	var named IssuedDevice
	rep := e.mustAdmin(t, "devices", "create", schemas.AdminRequest{Body: body(t,
		fmt.Sprintf(`{"user_id":%d,"device_uuid":"pixel-7_a","platform":"android"}`, u.ID))}, &named)
	if named.DeviceUUID != "pixel-7_a" || named.Status != "active" || named.TokenVersion != 1 || named.AccessToken == "" {
		t.Fatalf("create = %s", rep.Data)
	}
	generated := e.device(t, u.ID)
	if len(generated.DeviceUUID) != 36 || !deviceUUIDPattern.MatchString(generated.DeviceUUID) {
		t.Fatalf("generated device_uuid = %q", generated.DeviceUUID)
	}

	t.Run("device limit at create", func(t *testing.T) {
		re := e.adminErr(t, "devices", "create", schemas.AdminRequest{Body: body(t, fmt.Sprintf(`{"user_id":%d,"platform":"ios"}`, u.ID))})
		if re.Code != schemas.CodeDeviceLimitReached || !strings.Contains(re.Message, "2") {
			t.Fatalf("third device = %+v", re)
		}
		e.mustAdmin(t, "devices", "revoke", schemas.AdminRequest{ID: generated.ID}, nil)
		third := e.device(t, u.ID)
		if rep := e.validate(t, third); !rep.OK {
			t.Fatalf("device after revoke: %+v", rep.Error)
		}
	})

	t.Run("get never shows the token", func(t *testing.T) {
		rep := e.mustAdmin(t, "devices", "get", schemas.AdminRequest{Key: "pixel-7_a"}, nil)
		if strings.Contains(string(rep.Data), "access_token") || !strings.Contains(string(rep.Data), `"device_uuid":"pixel-7_a"`) {
			t.Fatalf("get = %s", rep.Data)
		}
		rep = e.mustAdmin(t, "devices", "list", schemas.AdminRequest{}, nil)
		if strings.Contains(string(rep.Data), "access_token") {
			t.Fatalf("list = %s", rep.Data)
		}
	})

	t.Run("list", func(t *testing.T) {
		var devices []Device
		rep := e.mustAdmin(t, "devices", "list", schemas.AdminRequest{Filter: map[string]string{"user_id": fmt.Sprint(u.ID), "status": "revoked"}}, &devices)
		if rep.Total != 1 || devices[0].ID != generated.ID {
			t.Fatalf("revoked = %d, %+v", rep.Total, devices)
		}
		rep = e.mustAdmin(t, "devices", "list", schemas.AdminRequest{Filter: map[string]string{"status": "active"}}, &devices)
		if rep.Total != 2 {
			t.Fatalf("active = %d", rep.Total)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, verb string
			req        schemas.AdminRequest
			code       schemas.ErrorCode
		}{
			{"uuid taken", "create", schemas.AdminRequest{Body: json.RawMessage(fmt.Sprintf(`{"user_id":%d,"device_uuid":"pixel-7_a","platform":"android"}`, e.user(t, "").ID))}, schemas.CodeConflict},
			{"unknown user", "create", schemas.AdminRequest{Body: json.RawMessage(`{"user_id":99999,"platform":"android"}`)}, schemas.CodeNotFound},
			{"bad uuid", "create", schemas.AdminRequest{Body: json.RawMessage(fmt.Sprintf(`{"user_id":%d,"device_uuid":"a b","platform":"android"}`, u.ID))}, schemas.CodeInvalidArgument},
			{"no platform", "create", schemas.AdminRequest{Body: json.RawMessage(fmt.Sprintf(`{"user_id":%d}`, u.ID))}, schemas.CodeInvalidArgument},
			{"no user", "create", schemas.AdminRequest{Body: json.RawMessage(`{"platform":"android"}`)}, schemas.CodeInvalidArgument},
			{"token in body", "create", schemas.AdminRequest{Body: json.RawMessage(fmt.Sprintf(`{"user_id":%d,"platform":"android","access_token":"x"}`, u.ID))}, schemas.CodeInvalidArgument},
			{"get unknown", "get", schemas.AdminRequest{Key: "nope"}, schemas.CodeNotFound},
			{"revoke unknown", "revoke", schemas.AdminRequest{ID: 99999}, schemas.CodeNotFound},
			{"rotate unknown", "rotate", schemas.AdminRequest{ID: 99999}, schemas.CodeNotFound},
			{"rotate revoked", "rotate", schemas.AdminRequest{ID: generated.ID}, schemas.CodeConflict},
			{"bad filter", "list", schemas.AdminRequest{Filter: map[string]string{"status": "lost"}}, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "devices", tc.verb, tc.req); re.Code != tc.code {
					t.Fatalf("error = %+v, want %s", re, tc.code)
				}
			})
		}
	})
}
