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

func TestGatewayPermissions(t *testing.T) {
	p, err := natsauth.GatewayPermissions("gw-1")
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{schemas.UsageSubject("eu-1", "gw-1"), schemas.SessionSubject(schemas.SessionEndedEvent, "gw-1"),
		schemas.GatewayHeartbeatSubject("gw-1"), schemas.SubjectValidateDevice, schemas.SubjectAssignOutline}
	denied := []string{schemas.UsageSubject("eu-1", "gw-2"), schemas.SessionSubject(schemas.SessionStartedEvent, "gw-2"),
		schemas.GatewayHeartbeatSubject("gw-2"), schemas.OutlineHeartbeatSubject(1), "$JS.API.CONSUMER.CREATE.USAGE",
		schemas.ControlSubject(schemas.ScopeUser, "1", schemas.ControlKick)}
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
