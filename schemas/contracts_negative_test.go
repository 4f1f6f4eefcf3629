package schemas_test

import (
	"encoding/json"
	"path"
	"testing"

	"github.com/httvps/httvps/schemas"
)

type mutation struct {
	path  string
	value any
}

func mustReject(t *testing.T, c schemas.Contract, example string, muts ...mutation) {
	t.Helper()
	m := object(t, readFile(t, path.Join(schemas.ExampleDir, example)))
	for _, mu := range muts {
		set(m, mu.path, mu.value)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(compile(t, c), data); err == nil {
		t.Errorf("%s accepted\n%s", c.Schema, data)
	}
}

func contractOf(t *testing.T, example string) schemas.Contract {
	t.Helper()
	for _, c := range schemas.Contracts() {
		if c.HasExample(example) {
			return c
		}
	}
	t.Fatalf("no contract for %s", example)
	return schemas.Contract{}
}

func TestSchemasRejectGeneric(t *testing.T) {
	for _, c := range schemas.Contracts() {
		t.Run(c.Name, func(t *testing.T) {
			example := path.Base(c.Examples()[0])
			t.Run("unknown field", func(t *testing.T) {
				mustReject(t, c, example, mutation{"unexpected", true})
			})
			required, _ := schemaDoc(t, c.Schema)["required"].([]any)
			for _, r := range required {
				field := r.(string)
				t.Run("missing "+field, func(t *testing.T) {
					mustReject(t, c, example, mutation{field, nil})
				})
			}
			if typ, ok := object(t, readFile(t, c.Examples()[0]))["type"].(string); ok {
				for _, other := range enumAt(t, schemas.CommonFile, "$defs", "frameType", "enum") {
					if other != typ {
						t.Run("type "+other, func(t *testing.T) {
							mustReject(t, c, example, mutation{"type", other})
						})
					}
				}
			}
		})
	}
}

func TestSchemasRejectBadValues(t *testing.T) {
	tests := []struct {
		name    string
		example string
		muts    []mutation
	}{
		{"stream_open stream_id 0", "stream-open.json", []mutation{{"stream_id", 0}}},
		{"stream_data stream_id 0", "stream-data.json", []mutation{{"stream_id", 0}}},
		{"stream_close stream_id 0", "stream-close.json", []mutation{{"stream_id", 0}}},
		{"stream_window stream_id 0", "stream-window.json", []mutation{{"stream_id", 0}}},
		{"error stream_id 0", "error-frame.stream.json", []mutation{{"stream_id", 0}}},
		{"stream_id above uint32", "stream-data.json", []mutation{{"stream_id", json.Number("4294967296")}}},
		{"stream_id not integer", "stream-data.json", []mutation{{"stream_id", 1.5}}},
		{"stream_window credit 0", "stream-window.json", []mutation{{"credit", 0}}},
		{"stream_ok stream_id 0", "stream-ok.json", []mutation{{"stream_id", 0}}},
		{"stream_ok extra field", "stream-ok.json", []mutation{{"credit", 5}}},
		{"udp_data flow_id 0", "udp-data.json", []mutation{{"flow_id", 0}}},
		{"udp_data without addr", "udp-data.json", []mutation{{"addr", nil}}},
		{"udp_data bad base64", "udp-data.json", []mutation{{"payload", "not base64!"}}},
		{"udp_close LIMIT_REACHED without limit", "udp-close.limit.json", []mutation{{"limit", nil}}},
		{"error with stream_id and flow_id", "error-frame.flow.json", []mutation{{"stream_id", 3}}},
		{"payload not base64", "stream-data.json", []mutation{{"payload", "not base64!"}}},
		{"payload null", "stream-data.json", []mutation{{"payload", json.RawMessage("null")}}},
		{"target without port", "stream-open.json", []mutation{{"target", "example.com"}}},
		{"target port 0", "stream-open.json", []mutation{{"target", "example.com:0"}}},
		{"target port 65536", "stream-open.json", []mutation{{"target", "example.com:65536"}}},
		{"target ipv6 unbracketed", "stream-open.json", []mutation{{"target", "2001:db8::1:443"}}},
		{"usage negative bytes_up", "usage-report.json", []mutation{{"bytes_up", -1}}},
		{"usage negative delta_down", "usage-report.json", []mutation{{"delta_down", -1}}},
		{"usage negative seq", "usage-report.json", []mutation{{"seq", -1}}},
		{"usage final false", "usage-report.final.json", []mutation{{"final", false}}},
		{"usage gateway_id with dot", "usage-report.json", []mutation{{"gateway_id", "gw.1"}}},
		{"usage region with wildcard", "usage-report.json", []mutation{{"region", "ru-*"}}},
		{"usage device_id with space", "usage-report.json", []mutation{{"device_id", "my phone"}}},
		{"usage bad date-time", "usage-report.json", []mutation{{"reported_at", "2025-11-21 18:46:11"}}},
		{"usage user_id 0", "usage-report.json", []mutation{{"user_id", 0}}},
		{"session ended negative bytes_down", "session-ended.json", []mutation{{"bytes_down", -5}}},
		{"session ended unknown reason", "session-ended.json", []mutation{{"reason", "bored"}}},
		{"session started gateway_id with >", "session-started.json", []mutation{{"gateway_id", "gw>"}}},
		{"gateway heartbeat bad status", "gateway-heartbeat.json", []mutation{{"status", "up"}}},
		{"gateway heartbeat bad ip", "gateway-heartbeat.json", []mutation{{"public_ip", "203.0.113"}}},
		{"gateway heartbeat negative sessions", "gateway-heartbeat.json", []mutation{{"sessions", -1}}},
		{"gateway heartbeat interval 0", "gateway-heartbeat.json", []mutation{{"interval_seconds", 0}}},
		{"outline heartbeat bad health", "outline-heartbeat.json", []mutation{{"health_status", "ok"}}},
		{"error frame bad code", "error-frame.json", []mutation{{"code", "SOMETHING_ELSE"}}},
		{"error frame LIMIT_REACHED without limit", "error-frame.limit.json", []mutation{{"limit", nil}}},
		{"error frame bad limit kind", "error-frame.limit.json", []mutation{{"limit", "bandwidth"}}},
		{"error frame empty message", "error-frame.stream.json", []mutation{{"message", ""}}},
		{"stream_close bad code", "stream-close.error.json", []mutation{{"code", "ECONNREFUSED"}}},
		{"hello unknown feature", "hello.json", []mutation{{"features", []any{"binary", "compression"}}}},
		{"hello duplicate feature", "hello.json", []mutation{{"features", []any{"binary", "binary"}}}},
		{"hello region with dot", "hello.json", []mutation{{"region", "ru.1"}}},
		{"hello empty access_token", "hello.json", []mutation{{"access_token", ""}}},
		{"hello_ok flow_control without window", "hello-ok.json", []mutation{{"limits.initial_window", nil}}},
		{"hello_ok max_streams 0", "hello-ok.json", []mutation{{"limits.max_streams", 0}}},
		{"hello_ok unknown limit", "hello-ok.json", []mutation{{"limits.max_sessions", 1}}},
		{"ping id 0", "ping.json", []mutation{{"id", 0}}},
		{"validate reply bad code", "validate-device-reply.refused.json", []mutation{{"error.code", "NOPE"}}},
		{"validate reply refused without error", "validate-device-reply.refused.json", []mutation{{"error", nil}}},
		{"validate reply ok with error", "validate-device-reply.json", []mutation{{"error", map[string]any{"code": "INTERNAL"}}}},
		{"validate reply ok without limits", "validate-device-reply.json", []mutation{{"limits", nil}}},
		{"validate reply missing traffic_limit_bytes", "validate-device-reply.json", []mutation{{"limits.traffic_limit_bytes", nil}}},
		{"validate reply negative used_bytes", "validate-device-reply.json", []mutation{{"limits.used_bytes", -1}}},
		{"validate reply unknown device field", "validate-device-reply.json", []mutation{{"device.user_id", 1}}},
		{"validate reply rpc error unknown field", "validate-device-reply.refused.json", []mutation{{"error.detail", "x"}}},
		{"validate request device_id with dot", "validate-device-request.json", []mutation{{"device_id", "a.b"}}},
		{"assign reply ok without node", "assign-outline-reply.json", []mutation{{"node", nil}}},
		{"assign reply error with node", "assign-outline-reply.error.json", []mutation{{"node", map[string]any{}}}},
		{"assign reply bad port", "assign-outline-reply.json", []mutation{{"node.ss_port", 70000}}},
		{"assign reply bad method", "assign-outline-reply.json", []mutation{{"node.ss_method", "rc4-md5"}}},
		{"assign request duplicate excludes", "assign-outline-request.json", []mutation{{"exclude_node_ids", []any{3, 3}}}},
		{"admin request negative offset", "admin-request.json", []mutation{{"offset", -1}}},
		{"admin request non-string filter", "admin-request.json", []mutation{{"filter.user_id", 1017}}},
		{"admin reply error with data", "admin-reply.error.json", []mutation{{"data", map[string]any{}}}},
		{"admin reply bad code", "admin-reply.error.json", []mutation{{"error.code", "404"}}},
		{"control bad code", "control-event.json", []mutation{{"code", "BANNED"}}},
		{"control bad scope", "control-event.json", []mutation{{"scope", "region"}}},
		{"control bad what", "control-event.json", []mutation{{"what", "ban"}}},
		{"control limit without kind", "control-event.limit.json", []mutation{{"limit", nil}}},
		{"control id with wildcard", "control-event.json", []mutation{{"id", "*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustReject(t, contractOf(t, tt.example), tt.example, tt.muts...)
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"unknown field", `{"type":"ping","id":1,"extra":1}`},
		{"trailing value", `{"type":"ping","id":1} {}`},
		{"trailing garbage", `{"type":"ping","id":1}x`},
		{"wrong type", `{"type":"ping","id":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := decodeStrict([]byte(tt.data), new(schemas.Ping)); err == nil {
				t.Errorf("decoded %s", tt.data)
			}
		})
	}
	if err := decodeStrict([]byte(" {\"type\":\"ping\",\"id\":1}\n"), new(schemas.Ping)); err != nil {
		t.Errorf("surrounding white space: %v", err)
	}
}
