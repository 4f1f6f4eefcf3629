package pglocal

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
)

func TestDataDirMovesOnlyWhatTheServerCannotReach(t *testing.T) {
	stranger := &pgOwner{uid: 54321, gid: 54321}
	tests := []struct {
		name  string
		mode  os.FileMode
		moved bool
	}{
		{"reachable clone stays in place", 0o755, false},
		{"private clone moves", 0o700, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clone := pgReachableTempDir(t)
			if err := os.Chmod(clone, tt.mode); err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(pgReachableTempDir(t), "relocated")
			want := filepath.Join(clone, ".data", "postgres")
			got, err := relocatedDataDir(want, stranger, base)
			if err != nil {
				t.Fatal(err)
			}
			if moved := got != want; moved != tt.moved {
				t.Fatalf("data dir = %s, moved %v, want moved %v", got, moved, tt.moved)
			}
			if !tt.moved {
				return
			}
			if filepath.Dir(got) != base {
				t.Fatalf("moved to %s, not under %s", got, base)
			}
			again, err := relocatedDataDir(want, stranger, base)
			if err != nil || again != got {
				t.Fatalf("second run: %s, %v; want the same %s", again, err, got)
			}
			if err := os.Remove(want + LocationSuffix); err != nil {
				t.Fatalf("the location file: %v", err)
			}
			fresh, err := relocatedDataDir(want, stranger, base)
			if err != nil || fresh == got {
				t.Fatalf("after forgetting: %s, %v; want a new directory", fresh, err)
			}
		})
	}
}

func TestDataDirRefusesAForeignLocation(t *testing.T) {
	stranger := &pgOwner{uid: 54321, gid: 54321}
	clone := t.TempDir()
	if err := os.Chmod(clone, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(clone, "postgres")
	if err := os.WriteFile(dir+LocationSuffix, []byte("/etc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := relocatedDataDir(dir, stranger, filepath.Join(pgReachableTempDir(t), "relocated"))
	if err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("err = %v, want a refusal naming the file", err)
	}
}

// As root the server runs as postgres: a cluster asked for in a private directory starts
// elsewhere and keeps its data between runs.
func TestClusterInAPrivateCloneKeepsItsData(t *testing.T) {
	owner, err := pgLookupOwner()
	if err != nil {
		t.Fatal(err)
	}
	if owner == nil {
		owner = &pgOwner{uid: 54321, gid: 54321}
	}
	clone := t.TempDir()
	if err := os.Chmod(clone, 0o700); err != nil {
		t.Fatal(err)
	}
	asked := filepath.Join(clone, ".data", "postgres")
	base := filepath.Join(pgReachableTempDir(t), "relocated")
	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		dir, err := relocatedDataDir(asked, owner, base)
		if err != nil {
			t.Fatal(err)
		}
		c, err := StartCluster(ctx, dir, 0, nil)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if run == 1 {
			if err := c.CreateDatabase(ctx, "kept"); err != nil {
				t.Fatal(err)
			}
		}
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.DSN("kept"))))
		err = db.PingContext(ctx)
		db.Close()
		if stopErr := c.Stop(ctx); stopErr != nil {
			t.Fatal(stopErr)
		}
		if err != nil {
			t.Fatalf("run %d: database made in run 1: %v", run, err)
		}
	}
}
