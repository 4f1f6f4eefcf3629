package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SecureNATS runs the shipped production NATS configuration (nats/cluster-n*.conf) on loopback:
// client and route TLS with certificates of a test CA, one nkey user per identity.
type SecureNATS struct {
	Dir     string
	Store   natsauth.Store
	TLS     devtls.Files
	CA      string
	Servers []*server.Server
	Ports   []int
	Routes  []int
}

// StartSecureNATS starts nodes servers (1 or 3; one runs without its cluster block) with identities for every control-plane service
// and the gateways, and provisions the streams through the provisioner identity.
func StartSecureNATS(tb testing.TB, nodes int, gateways ...string) *SecureNATS {
	tb.Helper()
	c := StartSecureNATSUnprovisioned(tb, nodes, gateways...)
	c.provision(tb, nodes)
	return c
}

// StartSecureNATSUnprovisioned is StartSecureNATS without streams, as a new deployment starts.
func StartSecureNATSUnprovisioned(tb testing.TB, nodes int, gateways ...string) *SecureNATS {
	tb.Helper()
	c := &SecureNATS{Dir: tb.TempDir()}
	c.Store = natsauth.Store{Dir: filepath.Join(c.Dir, "identities")}
	for _, name := range natsauth.Services() {
		c.mustCreate(tb, natsauth.RoleService, name)
	}
	for _, id := range gateways {
		c.mustCreate(tb, natsauth.RoleGateway, id)
	}
	c.render(tb)
	var err error
	if c.CA, c.TLS, err = devtls.Pair(filepath.Join(c.Dir, "tls"), "nats", "127.0.0.1", "localhost"); err != nil {
		tb.Fatal(err)
	}
	for range nodes {
		c.Ports = append(c.Ports, FreePort(tb))
		c.Routes = append(c.Routes, FreePort(tb))
	}
	for i := range nodes {
		srv, err := server.NewServer(c.options(tb, i))
		if err != nil {
			tb.Fatalf("nats-%d: %v", i+1, err)
		}
		go srv.Start()
		tb.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		c.Servers = append(c.Servers, srv)
	}
	for i, srv := range c.Servers {
		if !srv.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("nats-%d not ready", i+1)
		}
	}
	Eventually(tb, 20*time.Second, "the nodes route to each other over mutual TLS", func() bool {
		for _, srv := range c.Servers {
			if srv.NumRoutes() < nodes-1 {
				return false
			}
		}
		return true
	})
	return c
}

func (c *SecureNATS) mustCreate(tb testing.TB, role, name string) {
	tb.Helper()
	if _, err := c.Store.Create(role, name); err != nil {
		tb.Fatal(err)
	}
}

func (c *SecureNATS) render(tb testing.TB) {
	tb.Helper()
	if _, err := c.Store.WriteConfig(filepath.Join(c.Dir, "auth", "accounts.conf")); err != nil {
		tb.Fatal(err)
	}
}

// ShippedConfig is where the copy of node i's shipped file is, beside the generated auth/.
func (c *SecureNATS) ShippedConfig(i int) string {
	return filepath.Join(c.Dir, "cluster-n"+strconv.Itoa(i+1)+".conf")
}

// options copies node i's shipped file, defining the certificate variables it reads from the
// environment, and moves its listeners to loopback ports.
func (c *SecureNATS) options(tb testing.TB, i int) *server.Options {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(tb), "nats", filepath.Base(c.ShippedConfig(i))))
	if err != nil {
		tb.Fatal(err)
	}
	vars := fmt.Sprintf("HTTVPS_NATS_TLS_CERT: %q\nHTTVPS_NATS_TLS_KEY: %q\nHTTVPS_NATS_TLS_CA: %q\n", c.TLS.Cert, c.TLS.Key, c.CA)
	if err := os.WriteFile(c.ShippedConfig(i), append([]byte(vars), raw...), 0o644); err != nil {
		tb.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(c.ShippedConfig(i))
	if err != nil {
		tb.Fatalf("%s: %v", c.ShippedConfig(i), err)
	}
	opts.Host, opts.Port = "127.0.0.1", c.Ports[i]
	opts.HTTPHost, opts.HTTPPort = "127.0.0.1", 0
	opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", c.Routes[i]
	opts.Routes = nil
	for j, p := range c.Routes {
		if j != i {
			opts.Routes = append(opts.Routes, server.RoutesFromStr("nats-route://127.0.0.1:"+strconv.Itoa(p))...)
		}
	}
	if len(c.Routes) == 1 {
		opts.Cluster, opts.Routes = server.ClusterOpts{}, nil
	}
	opts.StoreDir = filepath.Join(c.Dir, "js", strconv.Itoa(i))
	opts.NoSigs, opts.NoLog = true, true
	return opts
}

func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

// Reload applies the store's current identities to every node, as nats-server --signal reload.
func (c *SecureNATS) Reload(tb testing.TB) {
	tb.Helper()
	c.render(tb)
	for i, srv := range c.Servers {
		if err := srv.ReloadOptions(c.options(tb, i)); err != nil {
			tb.Fatalf("reload nats-%d: %v", i+1, err)
		}
	}
}

func (c *SecureNATS) URL(i int) string { return "tls://127.0.0.1:" + strconv.Itoa(c.Ports[i]) }

// URLs lists every node's client URL, comma-separated, as HTTVPS_NATS_URL takes them.
func (c *SecureNATS) URLs() string {
	urls := make([]string, len(c.Ports))
	for i := range c.Ports {
		urls[i] = c.URL(i)
	}
	return strings.Join(urls, ",")
}

// Auth is how an identity connects: its seed, the test CA and its inbox prefix.
func (c *SecureNATS) Auth(role, name string) natsx.Auth {
	inbox := natsauth.ServiceInbox(name)
	if role == natsauth.RoleGateway {
		inbox = natsauth.GatewayInbox(name)
	}
	return natsx.Auth{NkeyFile: c.Store.SeedFile(role, name), CAFile: c.CA, InboxPrefix: inbox}
}

// Dial connects as an identity; asynchronous errors (permission violations) go to errs.
func (c *SecureNATS) Dial(auth natsx.Auth, errs chan<- error) (*nats.Conn, error) {
	opts, err := auth.Options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.MaxReconnects(0), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	return nats.Connect(c.URL(0), opts...)
}

// Conn connects as an identity that must stay within its permissions: a violation fails the test.
func (c *SecureNATS) Conn(tb testing.TB, role, name string) *nats.Conn {
	tb.Helper()
	errs := make(chan error, 16)
	nc, err := c.Dial(c.Auth(role, name), errs)
	if err != nil {
		tb.Fatalf("%s %s: connect: %v", role, name, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case err := <-errs:
				if IsPermissionViolation(err) {
					tb.Errorf("%s %s went beyond its permissions: %v", role, name, err)
				}
			case <-done:
				return
			}
		}
	}()
	tb.Cleanup(func() { nc.Close(); close(done) })
	return nc
}

func IsPermissionViolation(err error) bool {
	return err != nil && (errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(strings.ToLower(err.Error()), "permissions violation"))
}

func (c *SecureNATS) provision(tb testing.TB, nodes int) {
	tb.Helper()
	js, err := jetstream.New(c.Conn(tb, natsauth.RoleService, natsauth.Provisioner))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := natsx.DefaultStreams()
	if nodes == 3 {
		cfg.Replicas = 3
	}
	Eventually(tb, 30*time.Second, "the provisioner provisions the streams", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return natsx.Provision(ctx, js, cfg) == nil
	})
}
