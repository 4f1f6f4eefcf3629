package bench

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/httvps/httvps/services/httvps/system"
)

// clientModeArgs are the httvps-client flags of a mode: the client's defaults, or spec-only
// JSON frames without features.
func clientModeArgs(jsonOnly bool) []string {
	if jsonOnly {
		return []string{"--json"}
	}
	return nil
}

// buildClient builds cmd/httvps-client into dir.
func buildClient(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "httvps-client")
	cmd := exec.CommandContext(ctx, goBinary(), "build", "-o", out, "./services/client/cmd/httvps-client")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build httvps-client: %v: %s", err, msg)
	}
	return out, nil
}

func goBinary() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// startHTTVPSClient runs the httvps-client binary with its SOCKS5 front end against gw.
func startHTTVPSClient(ctx context.Context, bin string, gw *gatewayChild, d system.Device, jsonOnly bool) (*system.Process, error) {
	socks, err := system.FreeAddr()
	if err != nil {
		return nil, err
	}
	return system.StartProcess(ctx, socks, bin, clientArgs(gw, d, socks, "error", clientModeArgs(jsonOnly)...)...)
}

// clientArgs are the httvps-client flags of device d on gw with its SOCKS5 front end at socks.
func clientArgs(gw *gatewayChild, d system.Device, socks, logLevel string, extra ...string) []string {
	return append([]string{"--gateway", gw.URL, "--ca", gw.CertFile, "--device-id", d.DeviceUUID, "--token", d.Token,
		"--region", region, "--socks", socks, "--log-level", logLevel}, extra...)
}

// startSSLocal runs shadowsocks-libev's ss-local: a SOCKS5 server (UDP ASSOCIATE too) whose
// connections and datagrams go to the node through one Shadowsocks hop.
func startSSLocal(ctx context.Context, node system.Node) (*system.Process, error) {
	addr, err := system.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	return system.StartProcess(ctx, addr, "ss-local", "-s", node.IP, "-p", fmt.Sprint(node.Port), "-b", "127.0.0.1", "-l", port,
		"-k", node.Password, "-m", node.Method, "-t", "60", "--no-delay", "-u")
}

// startChisel runs a chisel server with TLS and a client forwarding a local port to remote.
func startChisel(ctx context.Context, bin, certFile, keyFile, remote string) (client, server *system.Process, err error) {
	serverAddr, err := system.FreeAddr()
	if err != nil {
		return nil, nil, err
	}
	host, port, _ := net.SplitHostPort(serverAddr)
	server, err = system.StartProcess(ctx, serverAddr, bin, "server", "--host", host, "--port", port, "--tls-cert", certFile, "--tls-key", keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("chisel server: %w", err)
	}
	local, err := system.FreeAddr()
	if err != nil {
		server.Stop()
		return nil, nil, err
	}
	client, err = system.StartProcess(ctx, local, bin, "client", "--tls-skip-verify", "https://"+serverAddr, local+":"+remote)
	if err != nil {
		server.Stop()
		return nil, nil, fmt.Errorf("chisel client: %w", err)
	}
	return client, server, nil
}

// startGatewayAndSSLocal runs a gateway child with env and an ss-local to the same node: the
// HTTVPS path and its plain Shadowsocks peer.
func startGatewayAndSSLocal(ctx context.Context, in *infra, env []string) (*gatewayChild, *system.Process, error) {
	gw, err := startGatewayChild(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	ssLocal, err := startSSLocal(ctx, in.node)
	if err != nil {
		gw.stop()
		return nil, nil, err
	}
	return gw, ssLocal, nil
}
