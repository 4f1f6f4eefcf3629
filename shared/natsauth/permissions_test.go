package natsauth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/nats-io/nats-server/v2/server"
)

// TestPermissionsFollowTheAdminTable: each owner serves exactly its commands of the schemas
// table, the edge may call every command, and no gateway may call any.
func TestPermissionsFollowTheAdminTable(t *testing.T) {
	gw, err := natsauth.GatewayPermissions("gw-1")
	if err != nil {
		t.Fatal(err)
	}
	edge, _ := natsauth.ServicePermissions(natsauth.Edge)
	for _, c := range schemas.AdminCommands() {
		for _, owner := range schemas.AdminOwners() {
			p, err := natsauth.ServicePermissions(owner)
			if err != nil {
				t.Fatal(err)
			}
			if serves := slices.Contains(p.Subscribe, c.Subject()); serves != (owner == c.Owner) {
				t.Errorf("%s: %s may serve it: %v", c.Key(), owner, serves)
			}
		}
		if !matchesAny(edge.Publish, c.Subject()) {
			t.Errorf("%s: the edge may not call it", c.Key())
		}
		if matchesAny(gw.Publish, c.Subject()) || matchesAny(gw.Subscribe, c.Subject()) {
			t.Errorf("%s: a gateway may reach it", c.Key())
		}
	}
}

func TestAgentPermissions(t *testing.T) {
	p, err := natsauth.AgentPermissions("7")
	if err != nil {
		t.Fatal(err)
	}
	if !matchesAny(p.Publish, schemas.OutlineHeartbeatSubject(7)) {
		t.Error("agent 7 may not publish its node's heartbeat")
	}
	for _, s := range []string{schemas.OutlineHeartbeatSubject(8), schemas.GatewayHeartbeatSubject("gw-1"), schemas.OutlineMoveSubject(7),
		schemas.OutlineDialsSubject("gw-1"), schemas.SubjectAssignOutline, "$JS.API.INFO"} {
		if matchesAny(p.Publish, s) {
			t.Errorf("agent 7 may publish %s", s)
		}
	}
	if matchesAny(p.Subscribe, schemas.SubjectControlAll) || matchesAny(p.Subscribe, natsauth.AgentInbox("8")+".x") {
		t.Errorf("agent 7 subscribes too much: %v", p.Subscribe)
	}
	for _, bad := range []string{"0", "-1", "07", "node-7", ""} {
		if _, err := natsauth.AgentPermissions(bad); err == nil {
			t.Errorf("agent name %q accepted", bad)
		}
	}
	registry, _ := natsauth.ServicePermissions(natsauth.NodeRegistry)
	if !matchesAny(registry.Publish, schemas.OutlineMoveSubject(7)) || !matchesAny(registry.Subscribe, schemas.OutlineDialsSubject("gw-1")) {
		t.Errorf("node-registry may not publish move events or take dial reports: %+v", registry)
	}
}

func TestGatewayPermissions(t *testing.T) {
	p, err := natsauth.GatewayPermissions("gw-1")
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{schemas.UsageSubject("eu-1", "gw-1"), schemas.SessionSubject(schemas.SessionEndedEvent, "gw-1"),
		schemas.GatewayHeartbeatSubject("gw-1"), schemas.OutlineDialsSubject("gw-1"), schemas.SubjectValidateDevice, schemas.SubjectAssignOutline,
		schemas.SessionSubject(schemas.SessionBootEvent, "gw-1"), "$JS.API.CONSUMER.CREATE.CONTROL.abc_1",
		"$JS.API.CONSUMER.MSG.NEXT.CONTROL.abc_1"}
	allowed = append(allowed, schemas.GatewaySlotSubjects("gw-1")...)
	denied := []string{schemas.UsageSubject("eu-1", "gw-2"), schemas.SessionSubject(schemas.SessionStartedEvent, "gw-2"),
		schemas.GatewayHeartbeatSubject("gw-2"), schemas.OutlineDialsSubject("gw-2"), schemas.OutlineHeartbeatSubject(1), schemas.OutlineMoveSubject(1),
		"$JS.API.CONSUMER.CREATE.USAGE", "$JS.API.CONSUMER.CREATE.USAGE.thief", "$JS.API.CONSUMER.CREATE.CONTROL.thief.httvps.control.>",
		"$JS.API.STREAM.DELETE.CONTROL", schemas.ControlSubject(schemas.ScopeUser, "1", schemas.ControlKick)}
	denied = append(denied, schemas.GatewaySlotSubjects("gw-2")...)
	denied = append(denied, schemas.SlotSubjects()...)
	for _, s := range allowed {
		if !matchesAny(p.Publish, s) {
			t.Errorf("gw-1 may not publish its own %s", s)
		}
	}
	for _, s := range denied {
		if matchesAny(p.Publish, s) {
			t.Errorf("gw-1 may publish %s", s)
		}
	}
	if !strings.HasPrefix(p.Inbox, "_INBOX.") || matchesAny(p.Subscribe, natsauth.GatewayInbox("gw-2")+".x") {
		t.Errorf("inbox %s, subscribe %v", p.Inbox, p.Subscribe)
	}
	for _, bad := range []string{"", "gw.1", "gw*", "gw>"} {
		if _, err := natsauth.GatewayPermissions(bad); err == nil {
			t.Errorf("gateway id %q accepted", bad)
		}
	}
}

func matchesAny(patterns []string, subject string) bool {
	for _, p := range patterns {
		if server.SubjectsCollide(p, subject) {
			return true
		}
	}
	return false
}
