package cluster_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/jetstream"
)

const cutFor = 30 * time.Second

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }

// TestProductionShape breaks the production shape on purpose, one fault after the other, and
// checks what PostgreSQL holds against the bytes moved and the reports sent.
func TestProductionShape(t *testing.T) {
	s := startSystem(t)
	js := s.nats.JetStream(t)

	t.Run("10000 usage reports across a restart of the USAGE leader", func(t *testing.T) {
		r := newReporter(t, s, "gw-load", s.subscriber(t, "leader"), 50)
		aggs := s.sys.Aggregators()
		before := [2]float64{acks(t, aggs[0].Registry, schemas.ConsumerUsageAggregator),
			acks(t, aggs[1].Registry, schemas.ConsumerUsageAggregator)}
		r.report(t, 1, 60)
		leader := s.nats.StreamLeader(t, js, schemas.StreamUsage)
		replicasOf(t, js, schemas.StreamUsage, 3)
		leader.Kill()
		t.Logf("USAGE leader %s shut down after %d acknowledged publishes", leader.Name, r.acked.Load())
		r.report(t, 61, 140)
		leader.Restart(t)
		s.nats.WaitReady(t)
		r.report(t, 141, 200)
		r.stored(t, s, 200)
		for i, u := range aggs[:2] {
			if got := acks(t, u.Registry, schemas.ConsumerUsageAggregator); got <= before[i] {
				t.Errorf("%s acknowledged no usage report", u.Name)
			}
		}
	})

	t.Run("an aggregator dies after its commit and before its ack", func(t *testing.T) {
		link := testkit.StartProxy(t, s.nats.Nodes[0].HostPort())
		link.DropAcks()
		s.doomedURL = link.URL()
		doomed, err := s.sys.StartAggregator(context.Background())
		if err != nil {
			t.Fatalf("the doomed aggregator: %v", err)
		}
		r := newReporter(t, s, "gw-ack", s.subscriber(t, "ack"), 20)
		last := 0
		for round := 0; round < 20 && link.DroppedAcks(schemas.StreamUsage) == 0; round++ {
			r.report(t, last+1, last+10)
			last += 10
			testkit.Eventually(t, waitLong, "the batch stored", func() bool {
				var n int64
				return s.query(t, `SELECT COUNT(*) FROM sessions WHERE id = ANY(?::uuid[]) AND last_seq = ?`,
					[]any{"{" + joinIDs(r.sessions) + "}", last}, &n) && n == int64(len(r.sessions))
			})
		}
		if link.DroppedAcks(schemas.StreamUsage) == 0 {
			t.Fatal("the doomed aggregator committed no batch in 20 rounds")
		}
		kill(doomed)
		t.Logf("doomed aggregator committed batches whose %d usage acks never arrived", link.DroppedAcks(schemas.StreamUsage))
		consumerSettled(t, js, schemas.StreamUsage, schemas.ConsumerUsageAggregator)
		r.stored(t, s, last)
	})

	t.Run("PostgreSQL restarts in the middle of ingest", func(t *testing.T) {
		r := newReporter(t, s, "gw-pg", s.subscriber(t, "pg"), 25)
		r.report(t, 1, 40)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.report(t, 41, 160)
		}()
		s.restartPostgres(t, 2*time.Second)
		<-done
		r.stored(t, s, 160)
	})

	t.Run("a gateway cut off from NATS keeps moving bytes and ends a ban on reconnect", func(t *testing.T) {
		gw := s.gateway(0)
		trickle := startTrickle(t)
		user, banned := s.subscriber(t, "cut"), s.subscriber(t, "banned")
		sess := s.mustDial(t, gw, user)
		victim := s.mustDial(t, gw, banned)
		d := startDownload(t, sess, trickle.addr)
		d.grows(t, "bytes before the cut")
		s.gwLinks.Cut()
		testkit.Eventually(t, 10*time.Second, "the gateway sees NATS gone", func() bool { return !gw.nc.IsConnected() })
		s.call(t, schemas.ResourceUsers, schemas.VerbSetStatus, schemas.AdminRequest{ID: banned.UserID, Body: []byte(`{"status":"banned"}`)}, nil)
		atCut := d.bytes()
		time.Sleep(cutFor) // the outage itself
		if d.bytes() <= atCut {
			t.Fatalf("no bytes moved during the %s cut (%d before)", cutFor, atCut)
		}
		select {
		case <-victim.Done():
			t.Fatal("the banned user's session ended while the gateway could not have heard of the ban")
		default:
		}
		s.gwLinks.Restore()
		testkit.Eventually(t, 10*time.Second, "the gateway reconnected", gw.nc.IsConnected)
		reconnected := time.Now()
		testkit.Eventually(t, time.Second, "the banned user's session ended within 1 s of the reconnect", func() bool {
			select {
			case <-victim.Done():
				return true
			default:
				return false
			}
		})
		t.Logf("banned session ended %s after the reconnect", time.Since(reconnected))
		if ge, ok := client.AsGatewayError(victim.Err()); !ok || ge.Code != schemas.CodeUserBanned {
			t.Errorf("banned session ended with %v, want USER_BANNED", victim.Err())
		}
		s.finalTotalsMatch(t, sess, d, trickle)
	})

	t.Run("the NATS node under a gateway dies", func(t *testing.T) {
		gw := s.gateway(1)
		trickle := startTrickle(t)
		user := s.subscriber(t, "nodekill")
		sess := s.mustDial(t, gw, user)
		d := startDownload(t, sess, trickle.addr)
		d.grows(t, "bytes before the kill")
		node := s.nats.Node(gw.nc.ConnectedServerName())
		if node == nil {
			t.Fatalf("gateway connected to unknown server %q", gw.nc.ConnectedServerName())
		}
		node.Kill()
		testkit.Eventually(t, 20*time.Second, "the gateway on another node", func() bool {
			return gw.nc.IsConnected() && gw.nc.ConnectedServerName() != node.Name
		})
		d.grows(t, "bytes after the kill")
		second := s.subscriber(t, "after-kill")
		if _, err := s.dial(t, gw, second); err != nil {
			t.Fatalf("a new session through the gateway after its node died: %v", err)
		}
		node.Restart(t)
		s.nats.WaitReady(t)
		s.finalTotalsMatch(t, sess, d, trickle)
	})

	t.Run("a gateway process killed with SIGKILL and started again", func(t *testing.T) { gatewayRestart(t, s) })

	t.Run("a control-plane copy dies and the other serves", func(t *testing.T) {
		kill(s.sys.Accounts()[0])
		kill(s.sys.NodeRegistries()[0])
		for i := range s.sys.Gateways() {
			gw := s.gateway(i)
			sub := s.subscriber(t, "copykill"+string(rune('a'+i)))
			if _, err := s.dial(t, gw, sub); err != nil {
				t.Fatalf("hello through %s with one copy of each service left: %v", gw.svc.Addr(), err)
			}
		}
	})
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}

// consumerSettled waits until the durable has nothing pending or unacknowledged.
func consumerSettled(t *testing.T, js jetstream.JetStream, stream, durable string) {
	t.Helper()
	testkit.Eventually(t, waitLong, durable+" with every message acknowledged", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, stream, durable)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

// replicasOf checks that the stream is configured with n replicas and has n-1 followers.
func replicasOf(t *testing.T, js jetstream.JetStream, stream string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != n || info.Cluster == nil || len(info.Cluster.Replicas) != n-1 {
		t.Fatalf("%s: replicas %d with cluster %+v, want %d", stream, info.Config.Replicas, info.Cluster, n)
	}
}
