package migrations_test

import (
	"os"
	"strings"
	"testing"
)

// Two migrations with one version would leave one of them unapplied.
func TestVersionsAreUnique(t *testing.T) {
	entries, err := os.ReadDir("sql")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]map[string]bool{}
	for _, e := range entries {
		version, rest, ok := strings.Cut(e.Name(), "_")
		if !ok {
			t.Fatalf("%s: no version prefix", e.Name())
		}
		name := strings.TrimSuffix(strings.TrimSuffix(rest, ".up.sql"), ".down.sql")
		if names[version] == nil {
			names[version] = map[string]bool{}
		}
		names[version][name] = true
	}
	for version, n := range names {
		if len(n) != 1 {
			t.Errorf("version %s is used by %d migrations: %v", version, len(n), n)
		}
	}
}
