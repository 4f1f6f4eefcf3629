// Package e2e runs the reference client and raw protocol sessions against the real system:
// every service assembled by the system builder on embedded JetStream and PostgreSQL, with
// ss-server processes and in-process Outline nodes.
package e2e_test

import (
	"os"
	"testing"

	"github.com/httvps/httvps/shared/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
