package pglocal

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const pgBinGlob = "/usr/lib/postgresql/*/bin"

var errPGBinariesNotFound = errors.New("PostgreSQL server binaries (initdb, postgres) not found " +
	"via `pg_config --bindir` or in " + pgBinGlob + ": run `make deps` to install PostgreSQL")

var pgBinDir = sync.OnceValues(func() (string, error) {
	return findPGBinDir("pg_config", pgBinGlob)
})

func findPGBinDir(pgConfig, glob string) (string, error) {
	var candidates []string
	if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob(glob)
	slices.SortFunc(dirs, func(a, b string) int { return pgDirVersion(b) - pgDirVersion(a) })
	candidates = append(candidates, dirs...)
	for _, dir := range candidates {
		if pgIsExecutable(filepath.Join(dir, "initdb")) && pgIsExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errPGBinariesNotFound
}

func pgDirVersion(binDir string) int {
	v, err := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	if err != nil {
		return 0
	}
	return v
}

func pgIsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
