package natsauth_test

import (
	"testing"
	"time"

	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
)

type identity struct {
	nc     *nats.Conn
	errors chan error
}

// connect signs in as one identity whose violations the test expects and reads.
func connect(tb testing.TB, c *testkit.SecureNATS, role, name string) *identity {
	tb.Helper()
	id := &identity{errors: make(chan error, 64)}
	nc, err := c.Dial(c.Auth(role, name), id.errors)
	if err != nil {
		tb.Fatalf("%s %s: connect: %v", role, name, err)
	}
	tb.Cleanup(nc.Close)
	id.nc = nc
	return id
}

// wantViolation waits for the server's permissions violation.
func (id *identity) wantViolation(tb testing.TB, what string) {
	tb.Helper()
	_ = id.nc.Flush()
	select {
	case err := <-id.errors:
		if !testkit.IsPermissionViolation(err) {
			tb.Fatalf("%s: async error %v, want a permissions violation", what, err)
		}
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s: no permissions violation reported", what)
	}
}
