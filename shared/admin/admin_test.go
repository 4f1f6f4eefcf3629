package admin_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/httvps/httvps/shared/rpc"
)

func wantErr(t *testing.T, err error, code schemas.ErrorCode, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	re, ok := rpc.AsRPCError(err)
	if !ok || re.Code != code || re.Message != msg {
		t.Fatalf("err = %v, want %s: %s", err, code, msg)
	}
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		err  *schemas.RPCError
		code schemas.ErrorCode
		msg  string
	}{
		{admin.Invalid("name: at most %d bytes", 200), schemas.CodeInvalidArgument, "name: at most 200 bytes"},
		{admin.NotFound("user %d not found", 7), schemas.CodeNotFound, "user 7 not found"},
		{admin.Conflict("plan name %q already exists", "x"), schemas.CodeConflict, `plan name "x" already exists`},
	} {
		wantErr(t, tt.err, tt.code, tt.msg)
	}
}

func TestPage(t *testing.T) {
	for _, tt := range []struct {
		name          string
		req           schemas.AdminRequest
		limit, offset int
		msg           string
	}{
		{"default", schemas.AdminRequest{}, 50, 0, ""},
		{"given", schemas.AdminRequest{Limit: 500, Offset: 20}, 500, 20, ""},
		{"limit too big", schemas.AdminRequest{Limit: 501}, 0, 0, "limit: must be from 1 to 500 (0 means 50)"},
		{"negative limit", schemas.AdminRequest{Limit: -1}, 0, 0, "limit: must be from 1 to 500 (0 means 50)"},
		{"negative offset", schemas.AdminRequest{Offset: -1}, 0, 0, "offset: must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			limit, offset, err := admin.Page(tt.req)
			wantErr(t, err, schemas.CodeInvalidArgument, tt.msg)
			if limit != tt.limit || offset != tt.offset {
				t.Fatalf("page = %d, %d, want %d, %d", limit, offset, tt.limit, tt.offset)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	for _, tt := range []struct {
		name    string
		filter  map[string]string
		allowed []string
		msg     string
	}{
		{"none", nil, []string{"status"}, ""},
		{"known", map[string]string{"status": "active", "user_id": "1"}, []string{"user_id", "status"}, ""},
		{"unknown", map[string]string{"status": "x"}, []string{"user_id", "gateway"}, "filter status: unknown, allowed filters are user_id, gateway"},
		{"several unknown, sorted", map[string]string{"role": "x", "plan_id": "1", "status": "a"}, []string{"status"},
			"filter plan_id, role: unknown, allowed filters are status"},
		{"no filters here", map[string]string{"code": "eu-1"}, nil, "filter code: unknown, this list takes no filters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := admin.Filters(schemas.AdminRequest{Filter: tt.filter}, tt.allowed...)
			wantErr(t, err, schemas.CodeInvalidArgument, tt.msg)
			if err == nil && !maps.Equal(f, tt.filter) {
				t.Fatalf("filters = %v, want %v", f, tt.filter)
			}
		})
	}
}

func TestPositiveID(t *testing.T) {
	long := strings.Repeat("9", 60)
	for _, tt := range []struct {
		v   string
		id  int64
		msg string
	}{
		{"17", 17, ""},
		{"abc", 0, `filter user_id: must be a positive integer, got "abc"`},
		{"0", 0, `filter user_id: must be a positive integer, got "0"`},
		{"-4", 0, `filter user_id: must be a positive integer, got "-4"`},
		{"", 0, `filter user_id: must be a positive integer, got ""`},
		{long, 0, `filter user_id: must be a positive integer, got "` + long[:40] + `..."`},
	} {
		id, err := admin.PositiveID("filter user_id", tt.v)
		wantErr(t, err, schemas.CodeInvalidArgument, tt.msg)
		if id != tt.id {
			t.Fatalf("PositiveID(%q) = %d, want %d", tt.v, id, tt.id)
		}
	}
}

func TestOneOf(t *testing.T) {
	wantErr(t, admin.OneOf("status", "active", "active", "revoked"), "", "")
	wantErr(t, admin.OneOf("filter status", "lost", "active", "revoked"), schemas.CodeInvalidArgument,
		`filter status: must be one of active, revoked, got "lost"`)
}

func TestTargetOf(t *testing.T) {
	for _, tt := range []struct {
		name    string
		req     schemas.AdminRequest
		keyName string
		want    admin.Target
		str     string
		msg     string
	}{
		{"id", schemas.AdminRequest{ID: 4}, "code", admin.Target{ID: 4}, "4", ""},
		{"key", schemas.AdminRequest{Key: "eu-1"}, "code", admin.Target{Key: "eu-1"}, `"eu-1"`, ""},
		{"id without key name", schemas.AdminRequest{ID: 4}, "", admin.Target{ID: 4}, "4", ""},
		{"both", schemas.AdminRequest{ID: 4, Key: "eu-1"}, "code", admin.Target{}, "", "id and key: give one, not both"},
		{"negative id", schemas.AdminRequest{ID: -1}, "code", admin.Target{}, "", "id: must be a positive integer"},
		{"key not supported", schemas.AdminRequest{Key: "eu-1"}, "", admin.Target{}, "", "key: not supported here, give the numeric id"},
		{"neither", schemas.AdminRequest{}, "code", admin.Target{}, "", "id or key (code): required"},
		{"no id", schemas.AdminRequest{}, "", admin.Target{}, "", "id: required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := admin.TargetOf(tt.req, tt.keyName)
			wantErr(t, err, schemas.CodeInvalidArgument, tt.msg)
			if got != tt.want || (tt.msg == "" && got.String() != tt.str) {
				t.Fatalf("target = %+v (%s), want %+v (%s)", got, got, tt.want, tt.str)
			}
		})
	}
}

func TestDecodeBody(t *testing.T) {
	type body struct {
		Name  string   `json:"name"`
		Port  int      `json:"port"`
		Load  float64  `json:"load"`
		On    bool     `json:"on"`
		Tags  []string `json:"tags"`
		Inner struct {
			X int `json:"x"`
		} `json:"inner"`
	}
	for _, tt := range []struct {
		name, raw, msg string
	}{
		{"ok", ` {"name":"a","port":1,"tags":["x"]} `, ""},
		{"empty", ``, "body: required"},
		{"blank", "  \n", "body: required"},
		{"null", `null`, "body: required"},
		{"not an object", `["a"]`, "body: must be a JSON object, not array"},
		{"string field", `{"name":5}`, "name: must be a string, not number"},
		{"whole number field", `{"port":"8388"}`, "port: must be a whole number, not string"},
		{"number field", `{"load":"high"}`, "load: must be a number, not string"},
		{"bool field", `{"on":1}`, "on: must be true or false, not number"},
		{"array field", `{"tags":"x"}`, "tags: must be an array, not string"},
		{"object field", `{"inner":1}`, "inner: must be an object, not number"},
		{"unknown field", `{"name":"a","zone":"b"}`, `body: unknown field "zone"`},
		{"cut short", `{"name":`, "body: unexpected EOF"},
		{"trailing data", `{"name":"a"} {}`, "body: trailing data after the JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			wantErr(t, admin.DecodeBody(json.RawMessage(tt.raw), &b), schemas.CodeInvalidArgument, tt.msg)
		})
	}
}
