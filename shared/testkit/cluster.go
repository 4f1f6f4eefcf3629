package testkit

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const clusterReady = 30 * time.Second

// NATSCluster is a JetStream cluster of in-process servers on loopback: random ports, a
// temporary store per node, routes between all of them and no advertised client URLs, so a
// client reaches exactly the nodes it is given.
type NATSCluster struct {
	Nodes []*ClusterNode
}

// ClusterNode is one server of the cluster; Restart brings it back on the same ports and store.
type ClusterNode struct {
	Name   string
	URL    string
	Server *server.Server
	opts   server.Options
}

// NATSJetStreamCluster starts n servers and provisions the streams at replicas 3.
func NATSJetStreamCluster(tb testing.TB, n int, streams natsx.StreamsConfig) *NATSCluster {
	tb.Helper()
	c := &NATSCluster{}
	routePorts := make([]int, n)
	for i := range routePorts {
		routePorts[i] = FreePort(tb)
	}
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	for i := range n {
		port := FreePort(tb)
		node := &ClusterNode{
			Name: fmt.Sprintf("n%d", i+1),
			URL:  "nats://127.0.0.1:" + strconv.Itoa(port),
			opts: server.Options{
				ServerName: fmt.Sprintf("n%d", i+1),
				Host:       "127.0.0.1",
				Port:       port,
				JetStream:  true,
				StoreDir:   tb.TempDir(),
				NoSigs:     true,
				NoLog:      true,
				MaxPayload: 1 << 20,
				Cluster: server.ClusterOpts{
					Name: "httvps-test", Host: "127.0.0.1", Port: routePorts[i], NoAdvertise: true,
				},
				Routes: server.RoutesFromStr(strings.Join(routes, ",")),
			},
		}
		c.Nodes = append(c.Nodes, node)
	}
	for _, node := range c.Nodes {
		node.start(tb)
	}
	tb.Cleanup(c.Shutdown)
	c.WaitReady(tb)
	js := c.JetStream(tb)
	ctx, cancel := context.WithTimeout(context.Background(), clusterReady)
	defer cancel()
	for {
		err := natsx.Provision(ctx, js, streams)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			tb.Fatalf("provision the cluster: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

func (n *ClusterNode) start(tb testing.TB) {
	tb.Helper()
	opts := n.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		tb.Fatalf("nats %s: %v", n.Name, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		tb.Fatalf("nats %s: not ready", n.Name)
	}
	n.Server = srv
}

// Kill stops the node at once.
func (n *ClusterNode) Kill() {
	if n.Server != nil {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
		n.Server = nil
	}
}

// Restart starts a killed node again with its ports and store.
func (n *ClusterNode) Restart(tb testing.TB) {
	tb.Helper()
	n.Kill()
	n.start(tb)
}

func (c *NATSCluster) Shutdown() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// URLs lists the client URLs, the node at first first.
func (c *NATSCluster) URLs(first int) string {
	var out []string
	for i := range c.Nodes {
		out = append(out, c.Nodes[(first+i)%len(c.Nodes)].URL)
	}
	return strings.Join(out, ",")
}

// WaitReady waits until the running nodes agree on a JetStream meta leader.
func (c *NATSCluster) WaitReady(tb testing.TB) {
	tb.Helper()
	Eventually(tb, clusterReady, "a JetStream meta leader every running node follows", func() bool {
		leader := false
		for _, n := range c.Nodes {
			if n.Server == nil {
				continue
			}
			if !n.Server.JetStreamIsCurrent() {
				return false
			}
			leader = leader || n.Server.JetStreamIsLeader()
		}
		return leader
	})
}

// Node returns the node of the given server name.
func (c *NATSCluster) Node(name string) *ClusterNode {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Conn connects to the nodes in order from first, never shuffled, reconnecting for ever.
func (c *NATSCluster) Conn(tb testing.TB, first int) *nats.Conn {
	tb.Helper()
	return DialOrdered(tb, c.URLs(first))
}

// DialOrdered connects to the URLs in the order given (and reconnects in that order).
func DialOrdered(tb testing.TB, urls string) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.Timeout(2*time.Second), nats.Name(tb.Name()))
	if err != nil {
		tb.Fatalf("connect %s: %v", urls, err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

func (c *NATSCluster) JetStream(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(c.Conn(tb, 0))
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return js
}

// StreamLeader is the node leading the stream now.
func (c *NATSCluster) StreamLeader(tb testing.TB, js jetstream.JetStream, stream string) *ClusterNode {
	tb.Helper()
	var leader *ClusterNode
	Eventually(tb, clusterReady, "a leader of stream "+stream, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		leader = c.Node(info.Cluster.Leader)
		return leader != nil && leader.Server != nil
	})
	return leader
}

// HostPort is the node's client address.
func (n *ClusterNode) HostPort() string {
	return net.JoinHostPort(n.opts.Host, strconv.Itoa(n.opts.Port))
}
