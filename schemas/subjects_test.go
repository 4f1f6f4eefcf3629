package schemas_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestSubjectBuilders(t *testing.T) {
	tests := []struct {
		name    string
		got     string
		want    string
		pattern string
	}{
		{"usage", schemas.UsageSubject("ru-1", "gw-ru-1-a"), "httvps.usage.ru-1.gw-ru-1-a", schemas.SubjectUsageAll},
		{"usage without region", schemas.UsageSubject("", "gw-1"), "httvps.usage.none.gw-1", schemas.SubjectUsageAll},
		{"usage sanitised", schemas.UsageSubject("ru.1", "gw *>1"), "httvps.usage.ru_1.gw___1", schemas.SubjectUsageAll},
		{"session started", schemas.SessionSubject(schemas.SessionStartedEvent, "gw-1"), "httvps.session.started.gw-1", schemas.SubjectSessionStartedAll},
		{"session ended", schemas.SessionSubject(schemas.SessionEndedEvent, "gw-1"), "httvps.session.ended.gw-1", schemas.SubjectSessionEndedAll},
		{"session sanitised", schemas.SessionSubject(schemas.SessionEndedEvent, "gw.eu\t1"), "httvps.session.ended.gw_eu_1", schemas.SubjectSessionAll},
		{"gateway heartbeat", schemas.GatewayHeartbeatSubject("gw-1"), "httvps.heartbeat.gateway.gw-1", schemas.SubjectGatewayHeartbeatAll},
		{"gateway heartbeat sanitised", schemas.GatewayHeartbeatSubject("gw>\n"), "httvps.heartbeat.gateway.gw__", schemas.SubjectGatewayHeartbeatAll},
		{"outline heartbeat", schemas.OutlineHeartbeatSubject(7), "httvps.heartbeat.outline.7", schemas.SubjectOutlineHeartbeatAll},
		{"control user kick", schemas.ControlSubject(schemas.ScopeUser, "1017", schemas.ControlKick), "httvps.control.user.1017.kick", schemas.SubjectControlAll},
		{"control device revoke", schemas.ControlSubject(schemas.ScopeDevice, "3f2b9c1e", schemas.ControlRevoke), "httvps.control.device.3f2b9c1e.revoke", schemas.SubjectControlAll},
		{"control sanitised", schemas.ControlSubject(schemas.ScopeSession, "a.b*c", schemas.ControlLimit), "httvps.control.session.a_b_c.limit", schemas.SubjectControlAll},
		{"control event", schemas.ControlEvent{Scope: schemas.ScopeGateway, ID: "gw-1", What: schemas.ControlKick}.Subject(), "httvps.control.gateway.gw-1.kick", schemas.SubjectControlAll},
		{"outline dials", schemas.OutlineDialsSubject("gw-1"), "httvps.health.dials.gw-1", schemas.SubjectOutlineDialsAll},
		{"outline move", schemas.OutlineMoveSubject(7), "httvps.control.outline_node.7.move", schemas.SubjectOutlineMoveAll},
		{"admin", schemas.AdminSubject(schemas.ResourceDevices, schemas.VerbSetStatus), "httvps.rpc.admin.devices.set-status", "httvps.rpc.admin.*.*"},
		{"admin outline nodes", schemas.AdminSubject(schemas.ResourceOutlineNodes, schemas.VerbList), "httvps.rpc.admin.outline-nodes.list", "httvps.rpc.admin.*.*"},
		{"admin sanitised", schemas.AdminSubject("users.x", "get >"), "httvps.rpc.admin.users_x.get__", "httvps.rpc.admin.*.*"},
		{"slot lease", schemas.SlotSubject(schemas.SubjectSessionLease, "gw-1"), "httvps.rpc.usage.lease.gw-1", schemas.SlotEndpoint(schemas.SubjectSessionLease)},
		{"slot sanitised", schemas.SlotSubject(schemas.SubjectSessionOpen, "gw.1>"), "httvps.rpc.usage.session-open.gw_1_", schemas.SlotEndpoint(schemas.SubjectSessionOpen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
			if !subjectMatches(tt.pattern, tt.got) {
				t.Errorf("%q is not matched by %q", tt.got, tt.pattern)
			}
			for _, tok := range strings.Split(tt.got, ".") {
				if err := schemas.ValidToken(tok); err != nil {
					t.Errorf("%q: %v", tt.got, err)
				}
			}
		})
	}
}

func TestUsageMsgID(t *testing.T) {
	if got, want := schemas.UsageMsgID("01JD3Q8Z", 42), "01JD3Q8Z:42"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValidToken(t *testing.T) {
	tests := []struct {
		token string
		valid bool
	}{
		{"ru-1", true},
		{"gw_ru-1-a", true},
		{"3f2b9c1e-8d4a-4f6b-9e2c-7a1d5b0c6e84", true},
		{"1017", true},
		{"ру-1", true},
		{"", false},
		{"a.b", false},
		{"*", false},
		{"gw*", false},
		{">", false},
		{"a>b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\rb", false},
		{"a\n", false},
	}
	sch := compileDef(t, "subjectToken")
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			err := schemas.ValidToken(tt.token)
			if (err == nil) != tt.valid {
				t.Errorf("ValidToken(%q) = %v, want valid %v", tt.token, err, tt.valid)
			}
			data, err := json.Marshal(tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, data); (err == nil) != tt.valid {
				t.Errorf("schema subjectToken disagrees with ValidToken on %q: %v", tt.token, err)
			}
		})
	}
}

func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(p) == len(s)
}

func TestSlotGateway(t *testing.T) {
	tests := []struct {
		name, base, subject, want string
		ok                        bool
	}{
		{"its own", schemas.SubjectSessionLease, "httvps.rpc.usage.lease.gw-1", "gw-1", true},
		{"built", schemas.SubjectSessionClose, schemas.SlotSubject(schemas.SubjectSessionClose, "gw-eu-2"), "gw-eu-2", true},
		{"another base", schemas.SubjectSessionLease, "httvps.rpc.usage.session-close.gw-1", "", false},
		{"no gateway", schemas.SubjectSessionLease, "httvps.rpc.usage.lease", "", false},
		{"empty gateway", schemas.SubjectSessionLease, "httvps.rpc.usage.lease.", "", false},
		{"two tokens", schemas.SubjectSessionLease, "httvps.rpc.usage.lease.gw.1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := schemas.SlotGateway(tt.base, tt.subject)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Fatalf("SlotGateway(%q) = %q, %v; want %q, %v", tt.subject, got, ok, tt.want, tt.ok)
			}
		})
	}
}
