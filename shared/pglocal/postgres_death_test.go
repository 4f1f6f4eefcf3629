package pglocal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pgChildEnv = "HTTVPS_TESTKIT_PG_CHILD"

// pgChildMain is the test binary re-executed as a process that starts the
// cluster, reports it and waits to be killed.
func pgChildMain() {
	c, err := pgShared.get()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d %s\n", c.cmd.Process.Pid, pgShared.root)
	select {}
}

func pgGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !pgProcessAlive(pid)
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestClusterDiesWithTestProcess(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pgChildEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not report its cluster: %v", err)
	}
	var pid int
	var root string
	if _, err := fmt.Sscan(line, &pid, &root); err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	if pgGone(pid) {
		t.Fatalf("postmaster %d is not running", pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for !pgGone(pid) {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postmaster %d survived its test process", pid)
		case <-time.After(pgPollInterval):
		}
	}
	if _, err := os.Stat(filepath.Join(root, "data", "postmaster.pid")); err == nil {
		t.Log("postmaster.pid left behind; the next run removes stale dirs")
	}
}

func TestRemoveStaleTestDirs(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(pgTestBaseDir(), fmt.Sprintf("%s%d-stale", pgTestDirPrefix, dead.Process.Pid))
	live := filepath.Join(pgTestBaseDir(), fmt.Sprintf("%s%d-live", pgTestDirPrefix, os.Getpid()))
	for _, dir := range []string{stale, live} {
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	pgRemoveStaleTestDirs()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale dir %s kept: %v", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live dir %s removed: %v", live, err)
	}
}
