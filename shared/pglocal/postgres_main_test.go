package pglocal

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(pgChildEnv) != "" {
		pgChildMain()
	}
	os.Exit(Main(m))
}
