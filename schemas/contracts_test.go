package schemas_test

import (
	"encoding/json"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestContracts(t *testing.T) {
	for _, c := range schemas.Contracts() {
		t.Run(c.Name, func(t *testing.T) {
			sch := compile(t, c)
			examples := c.Examples()
			if len(examples) == 0 {
				t.Fatalf("no example for %s in %s/", c.Name, schemas.ExampleDir)
			}
			for _, name := range examples {
				t.Run(path.Base(name), func(t *testing.T) {
					raw := readFile(t, name)
					if err := validate(sch, raw); err != nil {
						t.Fatalf("example does not match %s: %v", c.Schema, err)
					}
					v := c.New()
					if err := decodeStrict(raw, v); err != nil {
						t.Fatalf("strict decode into %T: %v", v, err)
					}
					out, err := json.Marshal(v)
					if err != nil {
						t.Fatal(err)
					}
					if err := validate(sch, out); err != nil {
						t.Fatalf("re-encoded %T does not match %s: %v\n%s", v, c.Schema, err, out)
					}
					if !sameJSON(t, raw, out) {
						t.Errorf("example is not what Go encodes; write it as\n%s", out)
					}
				})
			}
		})
	}
}

func TestContractCatalogue(t *testing.T) {
	contracts := schemas.Contracts()
	names := map[string]bool{}
	schemaFiles := map[string]bool{}
	for _, c := range contracts {
		if names[c.Name] || schemaFiles[c.Schema] {
			t.Errorf("%s / %s listed twice", c.Name, c.Schema)
		}
		names[c.Name], schemaFiles[c.Schema] = true, true
		if got := reflect.TypeOf(c.New()).Elem().Name(); got != c.Name {
			t.Errorf("contract %s builds a %s", c.Name, got)
		}
		doc := schemaDoc(t, c.Schema)
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema is %v", c.Schema, doc["$schema"])
		}
		if doc["$id"] != c.SchemaURL() {
			t.Errorf("%s: $id is %v, want %s", c.Schema, doc["$id"], c.SchemaURL())
		}
		if doc["title"] != c.Name {
			t.Errorf("%s: title is %v, want %s", c.Schema, doc["title"], c.Name)
		}
		if doc["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", c.Schema)
		}
	}

	schemaEntries, err := fs.ReadDir(schemas.Files, schemas.SchemaDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range schemaEntries {
		if e.Name() != schemas.CommonFile && !schemaFiles[e.Name()] {
			t.Errorf("%s/%s belongs to no contract", schemas.SchemaDir, e.Name())
		}
	}

	exampleEntries, err := fs.ReadDir(schemas.Files, schemas.ExampleDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exampleEntries {
		var owners []string
		for _, c := range contracts {
			if c.HasExample(e.Name()) {
				owners = append(owners, c.Name)
			}
		}
		if len(owners) != 1 {
			t.Errorf("%s/%s belongs to %d contracts %v, want 1", schemas.ExampleDir, e.Name(), len(owners), owners)
		}
	}
}

// Exported struct types never sent on their own: nested in a contract, or tables such as AdminCommand.
var nestedTypes = []string{"RPCError", "DeviceInfo", "SubscriptionInfo", "AccountLimits", "OutlineAssignment", "SessionLimits", "Contract", "AdminCommand", "OutlineDialCount", "LeaseGrant"}

func TestEveryMessageTypeHasAContract(t *testing.T) {
	var names []string
	for _, c := range schemas.Contracts() {
		names = append(names, c.Name)
	}
	for _, typ := range exportedStructs(t) {
		if !slices.Contains(names, typ) && !slices.Contains(nestedTypes, typ) {
			t.Errorf("type %s has no contract: add a schema, an example and an entry in Contracts()", typ)
		}
	}
}

func TestSchemaEnumsMatchGo(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		pointer []string
		want    []string
	}{
		{"error codes", schemas.CommonFile, []string{"$defs", "errorCode", "enum"}, strs(schemas.AllErrorCodes...)},
		{"limit kinds", schemas.CommonFile, []string{"$defs", "limitKind", "enum"},
			strs(schemas.LimitTraffic, schemas.LimitDevices, schemas.LimitStreams, schemas.LimitFrame,
				schemas.LimitMemory, schemas.LimitGatewaySessions, schemas.LimitAddressSessions, schemas.LimitHandshakes, schemas.LimitStreamOpenRate,
				schemas.LimitFlows, schemas.LimitDatagram, schemas.LimitSessions)},
		{"features", schemas.CommonFile, []string{"$defs", "feature", "enum"},
			strs(schemas.FeatureBinary, schemas.FeatureFlowControl, schemas.FeatureStreamConfirm, schemas.FeatureUDP)},
		{"frame types", schemas.CommonFile, []string{"$defs", "frameType", "enum"},
			strs(schemas.FrameHello, schemas.FrameHelloOK, schemas.FrameError, schemas.FrameStreamOpen, schemas.FrameStreamData,
				schemas.FrameStreamClose, schemas.FrameStreamWindow, schemas.FrameStreamOK, schemas.FrameUDPData, schemas.FrameUDPClose, schemas.FramePing, schemas.FramePong)},
		{"control scopes", "control-event.schema.json", []string{"properties", "scope", "enum"},
			strs(schemas.ScopeUser, schemas.ScopeDevice, schemas.ScopeSession, schemas.ScopeGateway, schemas.ScopeOutlineNode, schemas.ScopePlan)},
		{"control whats", "control-event.schema.json", []string{"properties", "what", "enum"},
			strs(schemas.ControlKick, schemas.ControlLimit, schemas.ControlRevoke, schemas.ControlMove, schemas.ControlRefresh)},
		{"gateway statuses", "gateway-heartbeat.schema.json", []string{"properties", "status", "enum"},
			strs(schemas.GatewayStatusOnline, schemas.GatewayStatusDraining, schemas.GatewayStatusOffline)},
		{"health statuses", "outline-heartbeat.schema.json", []string{"properties", "health_status", "enum"},
			strs(schemas.HealthHealthy, schemas.HealthUnhealthy, schemas.HealthOffline)},
		{"end reasons", "session-ended.schema.json", []string{"properties", "reason", "enum"},
			strs(schemas.EndReasonClientClosed, schemas.EndReasonKicked, schemas.EndReasonLimit, schemas.EndReasonRevoked,
				schemas.EndReasonProtocol, schemas.EndReasonIdle, schemas.EndReasonShutdown, schemas.EndReasonGatewayLost, schemas.EndReasonGatewayRestarted, schemas.EndReasonReplaced)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := enumAt(t, tt.file, tt.pointer...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s %v:\n got %v\nwant %v", tt.file, tt.pointer, got, tt.want)
			}
		})
	}

	t.Run("frame type consts", func(t *testing.T) {
		var got []string
		for _, c := range schemas.Contracts() {
			props := schemaDoc(t, c.Schema)["properties"].(map[string]any)
			if typ, ok := props["type"].(map[string]any); ok {
				got = append(got, typ["const"].(string))
			}
		}
		want := enumAt(t, schemas.CommonFile, "$defs", "frameType", "enum")
		if !slices.Equal(got, want) {
			t.Errorf("frame schemas carry type consts %v, want %v", got, want)
		}
	})
}
