package schemas_test

import (
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestAdminCommandTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range schemas.AdminCommands() {
		if seen[c.Key()] {
			t.Errorf("%s is in the table twice", c.Key())
		}
		seen[c.Key()] = true
		if err := schemas.ValidToken(c.Resource); err != nil {
			t.Errorf("%s: resource: %v", c.Key(), err)
		}
		if err := schemas.ValidToken(c.Verb); err != nil {
			t.Errorf("%s: verb: %v", c.Key(), err)
		}
		if c.Permission != schemas.PermissionAdminRead && c.Permission != schemas.PermissionAdminWrite {
			t.Errorf("%s: permission %q", c.Key(), c.Permission)
		}
		readVerb := c.Verb == schemas.VerbList || c.Verb == schemas.VerbGet
		if readVerb != (c.Permission == schemas.PermissionAdminRead) {
			t.Errorf("%s: verb %s with permission %s", c.Key(), c.Verb, c.Permission)
		}
		if !strings.HasPrefix(c.Subject(), schemas.SubjectAdminPrefix+".") {
			t.Errorf("%s: subject %s", c.Key(), c.Subject())
		}
	}
	owners := schemas.AdminOwners()
	want := []string{schemas.ServiceNodeRegistry, schemas.ServiceAccounts, schemas.ServiceUsageAggregator}
	if strings.Join(owners, ",") != strings.Join(want, ",") {
		t.Errorf("owners = %v, want %v", owners, want)
	}
}

func TestBindAdmin(t *testing.T) {
	full := map[string]int{}
	for i, c := range schemas.AdminCommandsOf(schemas.ServiceUsageAggregator) {
		full[c.Key()] = i
	}
	missing := map[string]int{"sessions.list": 0}
	extra := map[string]int{"users.list": 9}
	for k, v := range full {
		extra[k] = v
	}
	tests := []struct {
		name     string
		handlers map[string]int
		wantErr  string
	}{
		{name: "every command bound", handlers: full},
		{name: "a command without handler", handlers: missing, wantErr: "admin: usage-aggregator owns sessions.get but has no handler for it"},
		{name: "a handler the table does not give", handlers: extra, wantErr: "admin: usage-aggregator has a handler for users.list, which the table does not give it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds, hs, err := schemas.BindAdmin(schemas.ServiceUsageAggregator, tt.handlers)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(cmds) != len(full) || len(hs) != len(full) {
				t.Fatalf("cmds = %v, handlers = %v, err = %v", cmds, hs, err)
			}
			for i, c := range cmds {
				if hs[i] != full[c.Key()] {
					t.Errorf("%s bound to %d", c.Key(), hs[i])
				}
			}
		})
	}
}
