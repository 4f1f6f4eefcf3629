package noderegistry_test

import (
	"testing"

	"github.com/httvps/httvps/schemas"
)

// TestDatabaseFailureLosesNothing hides a table the registry needs: requests fail with a clear
// code, session events are redelivered, and once the table is back the events are stored.
func TestDatabaseFailureLosesNothing(t *testing.T) {
	h := newHarness(t)
	inst := h.start(t, fastConfig())
	h.createRegion(t, "eu-1")
	node := h.createNode(t, "eu-1", nodeSpec{maxSessions: 10})
	exec := func(q string) {
		t.Helper()
		if _, err := h.db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("ALTER TABLE outline_node_sessions RENAME TO outline_node_sessions_hidden")
	restored := false
	t.Cleanup(func() {
		if !restored {
			exec("ALTER TABLE outline_node_sessions_hidden RENAME TO outline_node_sessions")
		}
	})
	const consumer = schemas.ConsumerSessionsRegistry

	t.Run("session events are nacked", func(t *testing.T) {
		h.publishStarted(t, started(sessionID(1), node.ID, "gw-1"))
		waitAtLeast(t, inst, "httvps_consumer_messages_total", map[string]string{"consumer": consumer, "outcome": "nak"}, 2)
		waitAtLeast(t, inst, "httvps_registry_db_errors_total", map[string]string{"op": "store session events"}, 2)
	})
	t.Run("assignment answers BACKEND_UNAVAILABLE", func(t *testing.T) {
		_, err := h.assign(t, schemas.AssignOutlineRequest{Region: "eu-1", UserID: 1, DeviceID: "d"})
		if rpcCode(err) != schemas.CodeBackendUnavailable {
			t.Fatalf("err = %v, want BACKEND_UNAVAILABLE", err)
		}
	})
	t.Run("admin reads answer INTERNAL", func(t *testing.T) {
		_, err := h.admin(t, schemas.ResourceOutlineNodes, schemas.VerbList, schemas.AdminRequest{})
		if rpcCode(err) != schemas.CodeInternal {
			t.Fatalf("err = %v, want INTERNAL", err)
		}
	})
	t.Run("the redelivered event is stored once the table is back", func(t *testing.T) {
		exec("ALTER TABLE outline_node_sessions_hidden RENAME TO outline_node_sessions")
		restored = true
		h.waitActive(t, node.ID, 1)
	})
}

func waitAtLeast(tb testing.TB, inst *instance, name string, labels map[string]string, want float64) {
	tb.Helper()
	waitFor(tb, inst, name, labels, func(v float64) bool { return v >= want })
}
