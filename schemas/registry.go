package schemas

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed jsonschema examples
var Files embed.FS

// SchemaBaseURL is the base of every schema's $id; relative $refs resolve against it.
const SchemaBaseURL = "https://github.com/httvps/httvps/schemas/jsonschema/"

const (
	SchemaDir  = "jsonschema"
	ExampleDir = "examples"
	CommonFile = "common.schema.json"
)

type Contract struct {
	Name   string
	Schema string
	New    func() any
}

func Contracts() []Contract {
	return []Contract{
		{"UsageReport", "usage-report.schema.json", func() any { return new(UsageReport) }},
		{"SessionStarted", "session-started.schema.json", func() any { return new(SessionStarted) }},
		{"SessionEnded", "session-ended.schema.json", func() any { return new(SessionEnded) }},
		{"GatewayBoot", "gateway-boot.schema.json", func() any { return new(GatewayBoot) }},
		{"GatewayHeartbeat", "gateway-heartbeat.schema.json", func() any { return new(GatewayHeartbeat) }},
		{"OutlineHeartbeat", "outline-heartbeat.schema.json", func() any { return new(OutlineHeartbeat) }},
		{"OutlineDialReport", "outline-dial-report.schema.json", func() any { return new(OutlineDialReport) }},
		{"ValidateDeviceRequest", "validate-device-request.schema.json", func() any { return new(ValidateDeviceRequest) }},
		{"ValidateDeviceReply", "validate-device-reply.schema.json", func() any { return new(ValidateDeviceReply) }},
		{"AssignOutlineRequest", "assign-outline-request.schema.json", func() any { return new(AssignOutlineRequest) }},
		{"AssignOutlineReply", "assign-outline-reply.schema.json", func() any { return new(AssignOutlineReply) }},
		{"AdminRequest", "admin-request.schema.json", func() any { return new(AdminRequest) }},
		{"AdminReply", "admin-reply.schema.json", func() any { return new(AdminReply) }},
		{"ControlEvent", "control-event.schema.json", func() any { return new(ControlEvent) }},
		{"Hello", "hello.schema.json", func() any { return new(Hello) }},
		{"HelloOK", "hello-ok.schema.json", func() any { return new(HelloOK) }},
		{"ErrorFrame", "error-frame.schema.json", func() any { return new(ErrorFrame) }},
		{"StreamOpen", "stream-open.schema.json", func() any { return new(StreamOpen) }},
		{"StreamData", "stream-data.schema.json", func() any { return new(StreamData) }},
		{"StreamClose", "stream-close.schema.json", func() any { return new(StreamClose) }},
		{"StreamWindow", "stream-window.schema.json", func() any { return new(StreamWindow) }},
		{"StreamOK", "stream-ok.schema.json", func() any { return new(StreamOK) }},
		{"UDPData", "udp-data.schema.json", func() any { return new(UDPData) }},
		{"UDPClose", "udp-close.schema.json", func() any { return new(UDPClose) }},
		{"Ping", "ping.schema.json", func() any { return new(Ping) }},
		{"Pong", "pong.schema.json", func() any { return new(Pong) }},
	}
}

func (c Contract) SchemaURL() string { return SchemaBaseURL + c.Schema }

func (c Contract) SchemaPath() string { return path.Join(SchemaDir, c.Schema) }

// Examples lists the paths in Files of examples/<stem>.json and examples/<stem>.<variant>.json.
func (c Contract) Examples() []string {
	entries, err := fs.ReadDir(Files, ExampleDir)
	if err != nil {
		panic(err)
	}
	var out []string
	for _, e := range entries {
		if c.HasExample(e.Name()) {
			out = append(out, path.Join(ExampleDir, e.Name()))
		}
	}
	return out
}

// HasExample reports whether the example file name belongs to this contract.
func (c Contract) HasExample(name string) bool {
	stem := strings.TrimSuffix(c.Schema, ".schema.json")
	return name == stem+".json" || strings.HasPrefix(name, stem+".") && strings.HasSuffix(name, ".json")
}
