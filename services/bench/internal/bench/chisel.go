package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const chiselVersion = "v1.10.1"

// buildChisel builds chisel as pinned in deploy/tools into dir.
func buildChisel(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "chisel")
	cmd := exec.CommandContext(ctx, goBinary(), "build", "-o", out, "github.com/jpillora/chisel")
	cmd.Dir = filepath.Join(root, "deploy", "tools")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build chisel in %s: %v: %s", cmd.Dir, err, msg)
	}
	return out, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run from the repository (make bench)")
		}
		dir = parent
	}
}

// waitPath retries a one-byte exchange until the path carries it, for at most 15s.
func waitPath(ctx context.Context, p Path) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := measureTTFB(ctx, p, 1, time.Second)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
