package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/devtls"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/provision"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

const gatewayID = "gw-a"

// TestProvisionsTheProductionCluster runs the command against the shipped 3-node configuration
// (TLS, one nkey per identity), as a new deployment starts: no streams yet.
func TestProvisionsTheProductionCluster(t *testing.T) {
	c := testkit.StartSecureNATSUnprovisioned(t, 3, gatewayID)
	env := func(role, name string, changes ...string) map[string]string {
		m := map[string]string{
			config.EnvMode:    config.ModeProduction,
			natsx.EnvURL:      c.URLs(),
			natsx.EnvNkeyFile: c.Store.SeedFile(role, name),
			natsx.EnvCAFile:   c.CA,
		}
		for i := 0; i+1 < len(changes); i += 2 {
			m[changes[i]] = changes[i+1]
		}
		return m
	}
	operator, err := jetstream.New(c.Conn(t, natsauth.RoleService, natsauth.Operator))
	if err != nil {
		t.Fatal(err)
	}
	provisioner := natsauth.Provisioner

	t.Run("bad input gets one line naming the setting and changes nothing", func(t *testing.T) {
		dir := t.TempDir()
		stranger := filepath.Join(dir, "stranger.nk")
		kp, _ := nkeys.CreateUser()
		seed, _ := kp.Seed()
		if err := os.WriteFile(stranger, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		otherCA, err := devtls.NewCA(filepath.Join(dir, "other-ca"))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			env  map[string]string
			want string
		}{
			{"unreachable NATS", env(natsauth.RoleService, provisioner, natsx.EnvURL, "tls://127.0.0.1:"+strconv.Itoa(testkit.FreePort(t)), provision.EnvTimeout, "2s"),
				natsx.EnvURL + ": nats: connect to tls://127.0.0.1:"},
			{"an nkey the cluster does not know", env(natsauth.RoleService, provisioner, natsx.EnvNkeyFile, stranger),
				natsx.EnvNkeyFile + ": NATS refused this identity"},
			{"a seed file that is not there", env(natsauth.RoleService, provisioner, natsx.EnvNkeyFile, filepath.Join(dir, "missing.nk")),
				natsx.EnvNkeyFile + ": nkey seed"},
			{"a CA that did not sign the servers", env(natsauth.RoleService, provisioner, natsx.EnvCAFile, otherCA.File),
				natsx.EnvCAFile + ": the servers' certificate is not signed by this CA"},
			{"plain NATS in production", env(natsauth.RoleService, provisioner, natsx.EnvURL, "nats://127.0.0.1:"+strconv.Itoa(c.Ports[0]), natsx.EnvCAFile, ""),
				natsx.EnvURL + ": refused in production"},
			{"no nkey in production", env(natsauth.RoleService, provisioner, natsx.EnvNkeyFile, ""),
				natsx.EnvNkeyFile + ": refused in production"},
			{"one replica in production", env(natsauth.RoleService, provisioner, natsx.EnvReplicas, "1"),
				natsx.EnvReplicas + ": refused in production"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				provisionCmd(t, tt.env, "up").wantFailure(t, tt.want)
			})
		}
		wantNoStreams(t, operator)
	})

	t.Run("no other identity can provision", func(t *testing.T) {
		identities := [][2]string{{natsauth.RoleGateway, gatewayID}}
		for _, name := range natsauth.Services() {
			if name != natsauth.Operator && name != provisioner {
				identities = append(identities, [2]string{natsauth.RoleService, name})
			}
		}
		for _, id := range identities {
			t.Run(id[1], func(t *testing.T) {
				provisionCmd(t, env(id[0], id[1]), "up").wantFailure(t, natsx.EnvNkeyFile+": this identity may not provision")
				forbidden := []string{
					"$JS.API.STREAM.CREATE." + schemas.StreamUsage, "$JS.API.STREAM.UPDATE." + schemas.StreamUsage,
					"$JS.API.CONSUMER.CREATE." + schemas.StreamUsage + "." + schemas.ConsumerUsageAggregator,
					"$JS.API.CONSUMER.DELETE." + schemas.StreamSessions + "." + schemas.ConsumerSessionsRegistry,
				}
				wantViolations(t, c, c.Auth(id[0], id[1]), forbidden, nil)
			})
		}
		wantNoStreams(t, operator)
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("an older store: streams at 1 replica, a durable with its old single filter", func(t *testing.T) {
		older := natsx.DefaultStreams()
		for _, sc := range older.Streams()[:2] {
			testkit.Eventually(t, 30*time.Second, "the operator creates "+sc.Name, func() bool {
				_, err := operator.CreateStream(ctx, sc)
				return err == nil
			})
		}
		_, err := operator.CreateConsumer(ctx, schemas.StreamSessions, jetstream.ConsumerConfig{
			Durable: schemas.ConsumerSessionsRegistry, AckPolicy: jetstream.AckExplicitPolicy,
			FilterSubject: schemas.SubjectSessionAll, Replicas: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the provisioner creates what is missing and upgrades the rest to 3 replicas", func(t *testing.T) {
		provisionCmd(t, env(natsauth.RoleService, provisioner), "up").wantSteps(t, 3, func(kind, stream, name string) string {
			if stream == schemas.StreamUsage && kind == natsx.KindStream || stream == schemas.StreamSessions && kind == natsx.KindStream ||
				name == schemas.ConsumerSessionsRegistry {
				return natsx.ActionUpdated
			}
			return natsx.ActionCreated
		})
		cfg := natsx.DefaultStreams()
		for _, sc := range cfg.Streams() {
			testkit.Eventually(t, 30*time.Second, sc.Name+" on 3 current peers", func() bool {
				st, err := operator.Stream(ctx, sc.Name)
				if err != nil {
					return false
				}
				info := st.CachedInfo()
				return info.Config.Replicas == 3 && info.Cluster != nil && info.Cluster.Leader != "" && len(info.Cluster.Replicas) == 2 &&
					info.Cluster.Replicas[0].Current && info.Cluster.Replicas[1].Current
			})
		}
		for _, cs := range cfg.Consumers() {
			cons, err := operator.Consumer(ctx, cs.Stream, cs.Config.Durable)
			if err != nil {
				t.Fatalf("durable %s on %s: %v", cs.Config.Durable, cs.Stream, err)
			}
			got := cons.CachedInfo().Config
			if got.Replicas != 3 || got.FilterSubject != "" || !slices.Equal(got.FilterSubjects, cs.Config.FilterSubjects) {
				t.Errorf("durable %s on %s: replicas %d, filter %q %v; want 3, %v", cs.Config.Durable, cs.Stream,
					got.Replicas, got.FilterSubject, got.FilterSubjects, cs.Config.FilterSubjects)
			}
		}
	})

	t.Run("a second run changes nothing", func(t *testing.T) {
		provisionCmd(t, env(natsauth.RoleService, provisioner), "up").wantSteps(t, 3, every(natsx.ActionUnchanged))
	})

	t.Run("the provisioner neither publishes nor reads messages", func(t *testing.T) {
		gw, err := jetstream.New(c.Conn(t, natsauth.RoleGateway, gatewayID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gw.Publish(ctx, schemas.UsageSubject("eu-1", gatewayID), []byte(`{}`)); err != nil {
			t.Fatalf("the gateway reports usage: %v", err)
		}
		before := messages(t, operator, schemas.StreamUsage)
		usage := schemas.StreamUsage + "." + schemas.ConsumerUsageAggregator
		forbidden := []string{
			schemas.UsageSubject("eu-1", gatewayID), schemas.SessionSubject(schemas.SessionStartedEvent, gatewayID),
			schemas.GatewayHeartbeatSubject(gatewayID), schemas.ControlSubject(schemas.ScopeUser, "1", schemas.ControlKick),
			schemas.AdminSubject(schemas.ResourceUsers, schemas.VerbList), schemas.SubjectValidateDevice,
			"$JS.API.STREAM.MSG.GET." + schemas.StreamUsage, "$JS.API.DIRECT.GET." + schemas.StreamUsage,
			"$JS.API.CONSUMER.MSG.NEXT." + usage, "$JS.API.STREAM.PURGE." + schemas.StreamUsage,
			"$JS.API.STREAM.DELETE." + schemas.StreamUsage, "$JS.API.CONSUMER.CREATE." + schemas.StreamUsage + ".thief",
		}
		wantViolations(t, c, c.Auth(natsauth.RoleService, provisioner), forbidden,
			[]string{schemas.SubjectUsageAll, schemas.SubjectControlAll, "_INBOX.>", natsauth.ServiceInbox(natsauth.UsageAggregator) + ".>"})
		if after := messages(t, operator, schemas.StreamUsage); after != before {
			t.Fatalf("USAGE went from %d to %d messages", before, after)
		}
		if _, err := operator.Consumer(ctx, schemas.StreamUsage, "thief"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Fatalf("consumer thief: %v, want not found", err)
		}
	})
}

// wantViolations: the identity is refused every publish and subscribe it tries.
func wantViolations(tb testing.TB, c *testkit.SecureNATS, auth natsx.Auth, publish, subscribe []string) {
	tb.Helper()
	errs := make(chan error, 64)
	nc, err := c.Dial(auth, errs)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	try := func(what string, do func() error) {
		tb.Helper()
		if err := do(); err != nil {
			tb.Fatalf("%s: %v", what, err)
		}
		_ = nc.Flush()
		select {
		case err := <-errs:
			if !testkit.IsPermissionViolation(err) {
				tb.Fatalf("%s: %v, want a permissions violation", what, err)
			}
		case <-time.After(5 * time.Second):
			tb.Fatalf("%s: no permissions violation", what)
		}
	}
	for _, s := range publish {
		try("publish "+s, func() error { return nc.PublishRequest(s, nc.NewRespInbox(), []byte(`{}`)) })
	}
	for _, s := range subscribe {
		try("subscribe "+s, func() error { _, err := nc.Subscribe(s, func(*nats.Msg) {}); return err })
	}
}

func wantNoStreams(tb testing.TB, js jetstream.JetStream) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, sc := range natsx.DefaultStreams().Streams() {
		testkit.Eventually(tb, 30*time.Second, "JetStream answers for "+sc.Name, func() bool {
			_, err := js.Stream(ctx, sc.Name)
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return false
			}
			if err == nil {
				tb.Fatalf("stream %s exists", sc.Name)
			}
			return true
		})
	}
}

func messages(tb testing.TB, js jetstream.JetStream, stream string) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}
