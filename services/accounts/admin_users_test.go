package accounts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/uptrace/bun"
)

func TestAdminUsers(t *testing.T) {
	e := newEnv(t)
	create := func(b string) schemas.AdminRequest { return schemas.AdminRequest{Body: json.RawMessage(b)} }

	var alice, bob User
	e.mustAdmin(t, "users", "create", create(`{"identifier":"alice@example.com","identifier_kind":"email"}`), &alice)
	e.mustAdmin(t, "users", "create", create(`{"identifier":"+491701234567","identifier_kind":"phone","status":"pending"}`), &bob)
	if alice.ID == 0 || alice.Status != "active" || alice.CreatedAt.IsZero() || alice.UpdatedAt.IsZero() {
		t.Fatalf("alice = %+v", alice)
	}
	if bob.Status != "pending" || bob.IdentifierKind != "phone" {
		t.Fatalf("bob = %+v", bob)
	}

	t.Run("create refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			code       schemas.ErrorCode
		}{
			{"identifier taken", `{"identifier":"alice@example.com","identifier_kind":"email"}`, schemas.CodeConflict},
			{"no identifier", `{"identifier_kind":"email"}`, schemas.CodeInvalidArgument},
			{"no kind", `{"identifier":"carol@example.com"}`, schemas.CodeInvalidArgument},
			{"unknown kind", `{"identifier":"carol","identifier_kind":"icq"}`, schemas.CodeInvalidArgument},
			{"bad email", `{"identifier":"carol","identifier_kind":"email"}`, schemas.CodeInvalidArgument},
			{"bad phone", `{"identifier":"call me","identifier_kind":"phone"}`, schemas.CodeInvalidArgument},
			{"bad status", `{"identifier":"carol@example.com","identifier_kind":"email","status":"deleted"}`, schemas.CodeInvalidArgument},
			{"unknown field", `{"identifier":"carol@example.com","identifier_kind":"email","role":"admin"}`, schemas.CodeInvalidArgument},
			{"wrong type", `{"identifier":42,"identifier_kind":"email"}`, schemas.CodeInvalidArgument},
			{"body not an object", `["alice@example.com"]`, schemas.CodeInvalidArgument},
			{"body null", `null`, schemas.CodeInvalidArgument},
			{"no body", ``, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "users", "create", create(tc.body)); re.Code != tc.code || re.Message == "" {
					t.Fatalf("error = %+v, want %s with a message", re, tc.code)
				}
			})
		}
	})

	t.Run("get", func(t *testing.T) {
		var got User
		e.mustAdmin(t, "users", "get", schemas.AdminRequest{ID: alice.ID}, &got)
		if got != alice {
			t.Fatalf("get by id = %+v, want %+v", got, alice)
		}
		e.mustAdmin(t, "users", "get", schemas.AdminRequest{Key: "+491701234567"}, &got)
		if got.ID != bob.ID {
			t.Fatalf("get by identifier = %+v", got)
		}
		for _, tc := range []struct {
			name string
			req  schemas.AdminRequest
			code schemas.ErrorCode
		}{
			{"unknown id", schemas.AdminRequest{ID: 99999}, schemas.CodeNotFound},
			{"unknown key", schemas.AdminRequest{Key: "nobody@example.com"}, schemas.CodeNotFound},
			{"neither", schemas.AdminRequest{}, schemas.CodeInvalidArgument},
			{"both", schemas.AdminRequest{ID: 1, Key: "x"}, schemas.CodeInvalidArgument},
			{"negative id", schemas.AdminRequest{ID: -1}, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "users", "get", tc.req); re.Code != tc.code {
					t.Fatalf("error = %+v, want %s", re, tc.code)
				}
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			e.user(t, "")
		}
		var all []User
		rep := e.mustAdmin(t, "users", "list", schemas.AdminRequest{}, &all)
		if rep.Total != 5 || len(all) != 5 || all[0].ID != alice.ID {
			t.Fatalf("list = total %d, %d users", rep.Total, len(all))
		}
		var page []User
		rep = e.mustAdmin(t, "users", "list", schemas.AdminRequest{Limit: 2, Offset: 2}, &page)
		if rep.Total != 5 || len(page) != 2 || page[0].ID != all[2].ID {
			t.Fatalf("page = total %d, %+v", rep.Total, page)
		}
		var pending []User
		rep = e.mustAdmin(t, "users", "list", schemas.AdminRequest{Filter: map[string]string{"status": "pending"}}, &pending)
		if rep.Total != 1 || len(pending) != 1 || pending[0].ID != bob.ID {
			t.Fatalf("pending = total %d, %+v", rep.Total, pending)
		}
		var byIdentifier []User
		e.mustAdmin(t, "users", "list", schemas.AdminRequest{Filter: map[string]string{"identifier": "alice@example.com"}}, &byIdentifier)
		if len(byIdentifier) != 1 || byIdentifier[0].ID != alice.ID {
			t.Fatalf("by identifier = %+v", byIdentifier)
		}
		var none []User
		rep = e.mustAdmin(t, "users", "list", schemas.AdminRequest{Filter: map[string]string{"status": "banned"}}, &none)
		if rep.Total != 0 || none == nil || len(none) != 0 || string(rep.Data) != "[]" {
			t.Fatalf("empty list = %s, total %d", rep.Data, rep.Total)
		}
		for _, tc := range []struct {
			name string
			req  schemas.AdminRequest
		}{
			{"unknown filter", schemas.AdminRequest{Filter: map[string]string{"role": "admin"}}},
			{"bad status", schemas.AdminRequest{Filter: map[string]string{"status": "gone"}}},
			{"limit too big", schemas.AdminRequest{Limit: 501}},
			{"negative offset", schemas.AdminRequest{Offset: -1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "users", "list", tc.req); re.Code != schemas.CodeInvalidArgument {
					t.Fatalf("error = %+v", re)
				}
			})
		}
	})

	t.Run("set-status", func(t *testing.T) {
		var got User
		e.mustAdmin(t, "users", "set-status", schemas.AdminRequest{ID: bob.ID, Body: json.RawMessage(`{"status":"active"}`)}, &got)
		if got.Status != "active" || !got.UpdatedAt.After(bob.UpdatedAt) {
			t.Fatalf("set-status = %+v", got)
		}
		for _, tc := range []struct {
			name string
			req  schemas.AdminRequest
			code schemas.ErrorCode
		}{
			{"unknown user", schemas.AdminRequest{ID: 99999, Body: json.RawMessage(`{"status":"banned"}`)}, schemas.CodeNotFound},
			{"bad status", schemas.AdminRequest{ID: bob.ID, Body: json.RawMessage(`{"status":"deleted"}`)}, schemas.CodeInvalidArgument},
			{"no body", schemas.AdminRequest{ID: bob.ID}, schemas.CodeInvalidArgument},
			{"no id", schemas.AdminRequest{Body: json.RawMessage(`{"status":"banned"}`)}, schemas.CodeInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if re := e.adminErr(t, "users", "set-status", tc.req); re.Code != tc.code {
					t.Fatalf("error = %+v, want %s", re, tc.code)
				}
			})
		}
	})
}

func TestAdminMalformedRequest(t *testing.T) {
	e := newEnv(t)
	for _, a := range schemas.AdminCommandsOf(schemas.ServiceAccounts) {
		t.Run(a.Key(), func(t *testing.T) {
			for _, payload := range []string{`{"id":`, `{"id":1,"bogus":true}`, `[1,2]`, `{"limit":"ten"}`} {
				msg, err := e.nc.Request(a.Subject(), []byte(payload), callTimeout)
				if err != nil {
					t.Fatal(err)
				}
				if code := msg.Header.Get("Nats-Service-Error-Code"); code != string(schemas.CodeInvalidArgument) {
					t.Fatalf("%s: code = %q, want INVALID_ARGUMENT", payload, code)
				}
			}
		})
	}
}

func TestTimestampsInUTC(t *testing.T) {
	e := newEnv(t)
	var dbName string
	if err := e.db.NewRaw("SELECT current_database()").Scan(t.Context(), &dbName); err != nil {
		t.Fatal(err)
	}
	e.exec(t, "ALTER DATABASE ? SET timezone = 'Asia/Tokyo'", bun.Ident(dbName))
	e.db.SetMaxIdleConns(0)
	u, d := e.subscriber(t, 2, "")
	var zone string
	if err := e.db.NewRaw("SHOW timezone").Scan(t.Context(), &zone); err != nil || zone != "Asia/Tokyo" {
		t.Fatalf("session time zone = %q, %v", zone, err)
	}
	created := e.mustAdmin(t, "users", "create", schemas.AdminRequest{Body: json.RawMessage(`{"identifier":"tokyo@example.com","identifier_kind":"email"}`)}, nil)
	var subs []Subscription
	rep := e.mustAdmin(t, "subscriptions", "list", schemas.AdminRequest{Filter: map[string]string{"user_id": fmt.Sprint(u.ID)}}, &subs)
	got := e.mustAdmin(t, "devices", "get", schemas.AdminRequest{ID: d.ID}, nil)
	for _, data := range []json.RawMessage{created.Data, rep.Data, got.Data} {
		if strings.Contains(string(data), "+09:00") || !strings.Contains(string(data), "Z\"") {
			t.Fatalf("timestamps not in UTC: %s", data)
		}
	}
}
