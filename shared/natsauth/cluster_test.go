package natsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// cluster is the shipped 3-node production configuration (nats/cluster-n*.conf) on loopback,
// with identities and certificates generated for the test.
type cluster struct {
	dir     string
	store   natsauth.Store
	tls     devtls.Files
	ca      string
	servers []*server.Server
	ports   []int
	routes  []int
}

func startCluster(tb testing.TB, gateways ...string) *cluster {
	tb.Helper()
	c := &cluster{dir: tb.TempDir()}
	c.store = natsauth.Store{Dir: filepath.Join(c.dir, "identities")}
	for _, name := range natsauth.Services() {
		mustCreate(tb, c.store, natsauth.RoleService, name)
	}
	for _, id := range gateways {
		mustCreate(tb, c.store, natsauth.RoleGateway, id)
	}
	c.render(tb)
	ca, err := devtls.NewCA(filepath.Join(c.dir, "tls"))
	if err != nil {
		tb.Fatal(err)
	}
	if c.tls, err = ca.Issue(filepath.Join(c.dir, "tls"), "nats", "127.0.0.1", "localhost"); err != nil {
		tb.Fatal(err)
	}
	c.ca = ca.File
	tb.Setenv("HTTVPS_NATS_TLS_CERT", c.tls.Cert)
	tb.Setenv("HTTVPS_NATS_TLS_KEY", c.tls.Key)
	tb.Setenv("HTTVPS_NATS_TLS_CA", c.ca)
	for range 3 {
		c.ports = append(c.ports, testkit.FreePort(tb))
		c.routes = append(c.routes, testkit.FreePort(tb))
	}
	for i := range 3 {
		srv, err := server.NewServer(c.options(tb, i))
		if err != nil {
			tb.Fatalf("nats-%d: %v", i+1, err)
		}
		go srv.Start()
		tb.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		c.servers = append(c.servers, srv)
	}
	for i, srv := range c.servers {
		if !srv.ReadyForConnections(10 * time.Second) {
			tb.Fatalf("nats-%d not ready", i+1)
		}
	}
	testkit.Eventually(tb, 20*time.Second, "the three nodes route to each other over mutual TLS", func() bool {
		for _, srv := range c.servers {
			if srv.NumRoutes() < 2 {
				return false
			}
		}
		return true
	})
	c.provision(tb)
	return c
}

func mustCreate(tb testing.TB, s natsauth.Store, role, name string) {
	tb.Helper()
	if _, err := s.Create(role, name); err != nil {
		tb.Fatal(err)
	}
}

func (c *cluster) render(tb testing.TB) {
	tb.Helper()
	if _, err := c.store.WriteConfig(filepath.Join(c.dir, "auth", "accounts.conf")); err != nil {
		tb.Fatal(err)
	}
}

// options reads the shipped file of node i and moves its listeners to loopback ports.
func (c *cluster) options(tb testing.TB, i int) *server.Options {
	tb.Helper()
	name := "cluster-n" + strconv.Itoa(i+1) + ".conf"
	raw, err := os.ReadFile(filepath.Join("..", "..", "nats", name))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	opts.Host, opts.Port = "127.0.0.1", c.ports[i]
	opts.HTTPHost, opts.HTTPPort = "127.0.0.1", 0
	opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", c.routes[i]
	opts.Routes = nil
	for j, p := range c.routes {
		if j != i {
			opts.Routes = append(opts.Routes, server.RoutesFromStr("nats-route://127.0.0.1:"+strconv.Itoa(p))...)
		}
	}
	opts.StoreDir = filepath.Join(c.dir, "js", strconv.Itoa(i))
	opts.NoSigs, opts.NoLog = true, true
	return opts
}

// reload applies the store's current identities to every node, as nats-server --signal reload.
func (c *cluster) reload(tb testing.TB) {
	tb.Helper()
	c.render(tb)
	for i, srv := range c.servers {
		if err := srv.ReloadOptions(c.options(tb, i)); err != nil {
			tb.Fatalf("reload nats-%d: %v", i+1, err)
		}
	}
}

func (c *cluster) url(i int) string { return "tls://127.0.0.1:" + strconv.Itoa(c.ports[i]) }

type identity struct {
	nc     *nats.Conn
	errors chan error
}

// connect signs in as one identity with its own inbox prefix.
func (c *cluster) connect(tb testing.TB, role, name string) *identity {
	tb.Helper()
	inbox := natsauth.ServiceInbox(name)
	if role == natsauth.RoleGateway {
		inbox = natsauth.GatewayInbox(name)
	}
	id := &identity{errors: make(chan error, 64)}
	nc, err := c.dial(c.store.SeedFile(role, name), inbox, id.errors)
	if err != nil {
		tb.Fatalf("%s %s: connect: %v", role, name, err)
	}
	tb.Cleanup(nc.Close)
	id.nc = nc
	return id
}

func (c *cluster) dial(seed, inbox string, errs chan error) (*nats.Conn, error) {
	auth := natsx.Auth{NkeyFile: seed, CAFile: c.ca, InboxPrefix: inbox}
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
	return nats.Connect(c.url(0), opts...)
}

func (c *cluster) provision(tb testing.TB) {
	tb.Helper()
	op := c.connect(tb, natsauth.RoleService, natsauth.Operator)
	js, err := jetstream.New(op.nc)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := natsx.DefaultStreams()
	cfg.Replicas = 3
	testkit.Eventually(tb, 30*time.Second, "the operator provisions the streams at replicas 3", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return natsx.Provision(ctx, js, cfg) == nil
	})
}

// wantViolation waits for the server's permissions violation for the subject.
func (id *identity) wantViolation(tb testing.TB, what string) {
	tb.Helper()
	_ = id.nc.Flush()
	select {
	case err := <-id.errors:
		if err == nil || !isViolation(err) {
			tb.Fatalf("%s: async error %v, want a permissions violation", what, err)
		}
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s: no permissions violation reported", what)
	}
}
