// Package integration runs the gateway against the real accounts and node-registry services
// on PostgreSQL and an embedded JetStream.
package integration_test

import (
	"os"
	"testing"

	"github.com/httvps/httvps/shared/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
