package pglocal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RelocatedBase is where the data of a cluster goes when the postgres OS user cannot reach the
// directory asked for: /var/tmp survives reboots and every user may enter it.
const RelocatedBase = "/var/tmp/httvps-postgres"

// LocationSuffix names the file beside the asked-for directory that remembers the relocated
// data directory, so a clone finds its data again and forgetting the file forgets the data.
const LocationSuffix = ".location"

// DataDir is the directory StartCluster should use for dir: dir itself when the server's OS
// user can reach it, otherwise a per-clone directory under RelocatedBase remembered in
// dir+LocationSuffix.
func DataDir(dir string) (string, error) {
	owner, err := pgLookupOwner()
	if err != nil {
		return "", err
	}
	return relocatedDataDir(dir, owner, RelocatedBase)
}

func relocatedDataDir(dir string, owner *pgOwner, base string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("postgres data dir: %w", err)
	}
	if owner == nil {
		return abs, nil
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return "", fmt.Errorf("create parent of postgres data dir: %w", err)
	}
	if owner.checkReachable(abs) == nil {
		return abs, nil
	}
	pointer := abs + LocationSuffix
	if raw, err := os.ReadFile(pointer); err == nil {
		kept := strings.TrimSpace(string(raw))
		if !filepath.IsAbs(kept) || filepath.Dir(kept) != base {
			return "", fmt.Errorf("%s names %q, which is not a directory under %s (remove the file to start afresh)", pointer, kept, base)
		}
		return kept, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", pointer, err)
	}
	if err := os.MkdirAll(base, 0o711); err != nil {
		return "", fmt.Errorf("create %s: %w", base, err)
	}
	if err := os.Chmod(base, 0o711); err != nil {
		return "", fmt.Errorf("open %s to the %q OS user: %w", base, pgOSUser, err)
	}
	if err := owner.checkReachable(filepath.Join(base, "x")); err != nil {
		return "", fmt.Errorf("relocate postgres data: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	moved := filepath.Join(base, "clone-"+hex.EncodeToString(id))
	if err := os.WriteFile(pointer, []byte(moved+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", pointer, err)
	}
	return moved, nil
}
