package pglocal

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pgRemoveStaleTestDirs removes the cluster dirs of test processes that died
// before pglocal.Main could clean up after them.
func pgRemoveStaleTestDirs() {
	dirs, _ := filepath.Glob(filepath.Join(pgTestBaseDir(), pgTestDirPrefix+"*"))
	for _, dir := range dirs {
		owner, ok := pgTestDirPID(filepath.Base(dir))
		if !ok || pgProcessAlive(owner) {
			continue
		}
		if pm, ok := pgPostmasterPID(filepath.Join(dir, "data")); ok && pgProcessAlive(pm) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func pgTestDirPID(base string) (int, bool) {
	rest, ok := strings.CutPrefix(base, pgTestDirPrefix)
	if !ok {
		return 0, false
	}
	pid, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(pid)
	return n, err == nil && n > 0
}

func pgPostmasterPID(dataDir string) (int, bool) {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s.Text()))
	return n, err == nil && n > 0
}

func pgProcessAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
