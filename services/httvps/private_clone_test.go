package httvps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httvps/httvps/shared/pglocal"
)

// A clone the postgres OS user cannot enter (as root: anything under /root, or mktemp -d)
// still runs, with the cluster's data kept elsewhere for that clone between runs.
func TestSystemStartsFromAPrivateClone(t *testing.T) {
	clone := t.TempDir()
	if err := os.Chmod(clone, 0o700); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(clone, ".data")
	env := baseEnv(t, dataDir)
	location := filepath.Join(dataDir, "postgres"+pglocal.LocationSuffix)
	t.Cleanup(func() {
		if kept, err := os.ReadFile(location); err == nil {
			_ = os.RemoveAll(strings.TrimSpace(string(kept)))
		}
	})

	first := startSystem(t, env)
	userID, _ := first.DemoUser()
	if err := first.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	kept, err := os.ReadFile(location)
	if os.Geteuid() == 0 {
		if err != nil {
			t.Fatalf("as root the data of a private clone must move, and %s name where: %v", location, err)
		}
		if dir := strings.TrimSpace(string(kept)); filepath.Dir(dir) != pglocal.RelocatedBase {
			t.Fatalf("data kept in %s, not under %s", dir, pglocal.RelocatedBase)
		}
	}
	second := startSystem(t, env)
	if again, _ := second.DemoUser(); again != userID {
		t.Fatalf("demo user id %d on the second run, want %d (data not kept)", again, userID)
	}
}
