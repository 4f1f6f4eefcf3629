package accounts

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestAdminPlans(t *testing.T) {
	e := newEnv(t)
	rep := e.mustAdmin(t, "plans", "create", schemas.AdminRequest{Body: json.RawMessage(
		`{"name":"Standard","max_devices":3,"traffic_limit_gb":100.5,"price":"9.99","currency":"EUR"}`)}, nil)
	for _, want := range []string{`"name":"Standard"`, `"max_devices":3`, `"traffic_limit_gb":100.5`, `"price":9.99`, `"currency":"EUR"`} {
		if !strings.Contains(string(rep.Data), want) {
			t.Fatalf("create = %s, want %s in it", rep.Data, want)
		}
	}
	var unlimited Plan
	e.mustAdmin(t, "plans", "create", schemas.AdminRequest{Body: json.RawMessage(`{"name":"Unlimited","max_devices":5}`)}, &unlimited)
	if unlimited.TrafficLimitGB != nil || unlimited.Price != nil || unlimited.Currency != nil {
		t.Fatalf("unlimited = %+v", unlimited)
	}
	rep = e.mustAdmin(t, "plans", "get", schemas.AdminRequest{ID: unlimited.ID}, nil)
	if !strings.Contains(string(rep.Data), `"traffic_limit_gb":null`) {
		t.Fatalf("get = %s", rep.Data)
	}
	var byName Plan
	e.mustAdmin(t, "plans", "get", schemas.AdminRequest{Key: "Standard"}, &byName)
	if byName.TrafficLimitGB == nil || *byName.TrafficLimitGB != "100.5" {
		t.Fatalf("get by name = %+v", byName)
	}
	var plans []Plan
	if rep := e.mustAdmin(t, "plans", "list", schemas.AdminRequest{}, &plans); rep.Total != 2 || len(plans) != 2 {
		t.Fatalf("list = %d, %+v", rep.Total, plans)
	}
	if rep := e.mustAdmin(t, "plans", "list", schemas.AdminRequest{Filter: map[string]string{"name": "Unlimited"}}, &plans); rep.Total != 1 || plans[0].ID != unlimited.ID {
		t.Fatalf("list by name = %d, %+v", rep.Total, plans)
	}

	for _, tc := range []struct {
		name, body string
		code       schemas.ErrorCode
	}{
		{"name taken", `{"name":"Standard","max_devices":1}`, schemas.CodeConflict},
		{"no name", `{"max_devices":1}`, schemas.CodeInvalidArgument},
		{"no max_devices", `{"name":"Tiny"}`, schemas.CodeInvalidArgument},
		{"zero traffic", `{"name":"Tiny","max_devices":1,"traffic_limit_gb":0}`, schemas.CodeInvalidArgument},
		{"negative traffic", `{"name":"Tiny","max_devices":1,"traffic_limit_gb":-5}`, schemas.CodeInvalidArgument},
		{"traffic as text", `{"name":"Tiny","max_devices":1,"traffic_limit_gb":"lots"}`, schemas.CodeInvalidArgument},
		{"price with three decimals", `{"name":"Tiny","max_devices":1,"price":1.999}`, schemas.CodeInvalidArgument},
		{"lower-case currency", `{"name":"Tiny","max_devices":1,"price":1,"currency":"eur"}`, schemas.CodeInvalidArgument},
		{"currency without price", `{"name":"Tiny","max_devices":1,"currency":"EUR"}`, schemas.CodeInvalidArgument},
		{"unknown field", `{"name":"Tiny","max_devices":1,"speed":100}`, schemas.CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if re := e.adminErr(t, "plans", "create", schemas.AdminRequest{Body: json.RawMessage(tc.body)}); re.Code != tc.code {
				t.Fatalf("error = %+v, want %s", re, tc.code)
			}
		})
	}
	if re := e.adminErr(t, "plans", "get", schemas.AdminRequest{Key: "Gold"}); re.Code != schemas.CodeNotFound {
		t.Fatalf("get unknown = %+v", re)
	}
}
