package openapi_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/openapi"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type document struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

func load(t *testing.T) (document, any) {
	t.Helper()
	var d document
	dec := json.NewDecoder(bytes.NewReader(openapi.Document))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var raw any
	if err := json.Unmarshal(openapi.Document, &raw); err != nil {
		t.Fatal(err)
	}
	return d, raw
}

func TestEveryComponentSchemaCompiles(t *testing.T) {
	d, _ := load(t)
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x (JSON Schema 2020-12 components)", d.OpenAPI)
	}
	for _, name := range keys(d.Components.Schemas) {
		t.Run(name, func(t *testing.T) {
			if _, err := openapi.Schema(name); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEveryRefResolves(t *testing.T) {
	_, raw := load(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "$ref" {
					ref, _ := child.(string)
					if !strings.HasPrefix(ref, "#/") || lookup(raw, strings.Split(ref[2:], "/")) == nil {
						t.Errorf("%s: $ref %v does not resolve", at, child)
					}
					continue
				}
				walk(at+"/"+k, child)
			}
		case []any:
			for _, child := range v {
				walk(at+"[]", child)
			}
		}
	}
	walk("", raw)
}

func lookup(v any, p []string) any {
	for _, tok := range p {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
	}
	return v
}

// The wire contracts the edge passes through keep the field names of their JSON Schemas.
func TestComponentsMirrorContracts(t *testing.T) {
	mirrors := map[string]struct {
		file string
		def  string
		skip []string
	}{
		"ValidateDeviceRequest":   {file: "validate-device-request.schema.json"},
		"ValidateDeviceReply":     {file: "validate-device-reply.schema.json", skip: []string{"error"}},
		"DeviceInfo":              {file: "validate-device-reply.schema.json", def: "device"},
		"SubscriptionInfo":        {file: "validate-device-reply.schema.json", def: "subscription"},
		"AccountLimits":           {file: "validate-device-reply.schema.json", def: "limits"},
		"AssignOutlineRequest":    {file: "assign-outline-request.schema.json"},
		"AssignOutlineReply":      {file: "assign-outline-reply.schema.json", skip: []string{"error"}},
		"OutlineHeartbeatRequest": {file: "outline-heartbeat.schema.json"},
		"GatewayHeartbeatRequest": {file: "gateway-heartbeat.schema.json"},
	}
	d, _ := load(t)
	for _, name := range keys(mirrors) {
		m := mirrors[name]
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(schemas.Files, path.Join(schemas.SchemaDir, m.file))
			if err != nil {
				t.Fatal(err)
			}
			var contract struct {
				Properties map[string]any `json:"properties"`
				Defs       map[string]struct {
					Properties map[string]any `json:"properties"`
				} `json:"$defs"`
			}
			if err := json.Unmarshal(data, &contract); err != nil {
				t.Fatal(err)
			}
			want := contract.Properties
			if m.def != "" {
				want = contract.Defs[m.def].Properties
			}
			for _, s := range m.skip {
				delete(want, s)
			}
			var component struct {
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal(d.Components.Schemas[name], &component); err != nil {
				t.Fatal(err)
			}
			if got, w := strings.Join(keys(component.Properties), ","), strings.Join(keys(want), ","); got != w {
				t.Errorf("properties\n got %s\nwant %s (%s)", got, w, m.file)
			}
		})
	}
}

func TestExampleRequestsValidate(t *testing.T) {
	tests := []struct {
		schema, example string
	}{
		{"ValidateDeviceRequest", "validate-device-request.json"},
		{"AssignOutlineRequest", "assign-outline-request.json"},
		{"ValidateDeviceReply", "validate-device-reply.json"},
		{"AssignOutlineReply", "assign-outline-reply.json"},
		{"OutlineHeartbeatRequest", "outline-heartbeat.json"},
		{"GatewayHeartbeatRequest", "gateway-heartbeat.json"},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			sch, err := openapi.Schema(tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			data, err := fs.ReadFile(schemas.Files, path.Join(schemas.ExampleDir, tt.example))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Fatalf("%s does not match %s: %v", tt.example, tt.schema, err)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestComponentsRejectBadBodies(t *testing.T) {
	tests := []struct {
		schema, body string
	}{
		{"ValidateDeviceRequest", `{"device_id":"a.b","access_token":"t","region":"eu-1"}`},
		{"ValidateDeviceRequest", `{"device_id":"d1","access_token":"t","region":"eu-1","extra":1}`},
		{"UsageReportRequest", `{"gateway_id":"gw-1","device_id":"d1","session_id":"not-a-uuid","bytes_up":1,"bytes_down":2,"started_at":"2025-11-21T18:00:00Z"}`},
		{"Error", `{"ok":false,"code":"NOPE","error":{"code":"NOPE"}}`},
		{"RegionList", `{"items":[],"total":0,"limit":0,"offset":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			sch, err := openapi.Schema(tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(doc) == nil {
				t.Fatalf("accepted %s", tt.body)
			}
		})
	}
}
