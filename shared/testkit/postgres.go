package testkit

import (
	"testing"

	"github.com/httvps/httvps/shared/pglocal"
)

// Postgres returns the DSN of a fresh empty database on this test process's throwaway cluster.
func Postgres(tb testing.TB) string { return pglocal.Postgres(tb) }

// Main runs the tests, then stops the throwaway cluster; call it from TestMain.
func Main(m *testing.M) int { return pglocal.Main(m) }
