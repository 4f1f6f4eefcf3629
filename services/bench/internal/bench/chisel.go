package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/httvps/httvps/services/client/internal/stack"
)

const chiselVersion = "v1.10.1"

// buildChisel builds chisel as pinned in deploy/tools into dir.
func buildChisel(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "chisel")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/jpillora/chisel")
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

// startChisel runs a chisel server with TLS and a client forwarding a local port to remote;
// it returns the path through them (procs are added to the path's watched processes).
func startChisel(ctx context.Context, bin, certFile, keyFile, remote string, procs ...proc) (Path, error) {
	serverPort, err := stack.FreePort()
	if err != nil {
		return Path{}, err
	}
	localPort, err := stack.FreePort()
	if err != nil {
		return Path{}, err
	}
	serverAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(serverPort))
	srv, err := stack.StartProcess(ctx, serverAddr, bin, "server", "--host", "127.0.0.1", "--port", strconv.Itoa(serverPort),
		"--tls-cert", certFile, "--tls-key", keyFile)
	if err != nil {
		return Path{}, fmt.Errorf("chisel server: %w", err)
	}
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort))
	cli, err := stack.StartProcess(ctx, local, bin, "client", "--tls-skip-verify", "https://"+serverAddr, local+":"+remote)
	if err != nil {
		srv.Stop()
		return Path{}, fmt.Errorf("chisel client: %w", err)
	}
	stop := func() {
		cli.Stop()
		srv.Stop()
	}
	procs = append([]proc{{Name: "chisel client", PID: cli.PID()}, {Name: "chisel server", PID: srv.PID()}}, procs...)
	p := chiselPath(local, stop, procs...)
	if err := waitPath(ctx, p); err != nil {
		stop()
		return Path{}, fmt.Errorf("chisel: %w", err)
	}
	return p, nil
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
