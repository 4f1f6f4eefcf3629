package natsx_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestProvisionCreatesStreamsAndConsumersIdempotently(t *testing.T) {
	srv := testkit.NATS(t)
	js := srv.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.DefaultStreams()); err != nil {
		t.Fatalf("second provision: %v", err)
	}
	for _, sc := range natsx.DefaultStreams().Streams() {
		t.Run(sc.Name, func(t *testing.T) {
			st, err := js.Stream(ctx, sc.Name)
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			info, err := st.Info(ctx)
			if err != nil {
				t.Fatalf("info: %v", err)
			}
			if info.Config.Subjects[0] != sc.Subjects[0] || info.Config.Storage != jetstream.FileStorage {
				t.Fatalf("config = %+v", info.Config)
			}
		})
	}
	for _, cs := range natsx.DefaultStreams().Consumers() {
		t.Run(cs.Config.Durable, func(t *testing.T) {
			c, err := js.Consumer(ctx, cs.Stream, cs.Config.Durable)
			if err != nil {
				t.Fatalf("consumer: %v", err)
			}
			if c.CachedInfo().Config.AckPolicy != jetstream.AckExplicitPolicy {
				t.Fatalf("ack policy = %v", c.CachedInfo().Config.AckPolicy)
			}
		})
	}
}

func TestProvisionRejectsBadReplicas(t *testing.T) {
	srv := testkit.NATS(t)
	cfg := natsx.DefaultStreams()
	cfg.Replicas = 2
	err := natsx.Provision(context.Background(), srv.JetStream(t), cfg)
	if err == nil || err.Error() != "provision: replicas must be 1 or 3, got 2" {
		t.Fatalf("err = %v", err)
	}
}

func TestUsageDuplicatesAreDroppedByMsgID(t *testing.T) {
	srv := testkit.NATS(t)
	js := srv.JetStream(t)
	ctx := context.Background()
	subject := schemas.UsageSubject("eu-1", "gw-1")
	for i := 0; i < 3; i++ {
		msg := nats.NewMsg(subject)
		msg.Header.Set(schemas.HeaderMsgID, schemas.UsageMsgID("s1", 1))
		msg.Data = []byte(`{}`)
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if want := i > 0; ack.Duplicate != want {
			t.Fatalf("publish %d duplicate = %v", i, ack.Duplicate)
		}
	}
	st, _ := js.Stream(ctx, schemas.StreamUsage)
	info, _ := st.Info(ctx)
	if info.State.Msgs != 1 {
		t.Fatalf("messages = %d, want 1", info.State.Msgs)
	}
}

func TestHeartbeatsKeepLastPerSubject(t *testing.T) {
	srv := testkit.NATS(t)
	js := srv.JetStream(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := js.Publish(ctx, schemas.GatewayHeartbeatSubject("gw-1"), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := js.Stream(ctx, schemas.StreamHeartbeats)
	info, _ := st.Info(ctx)
	if info.State.Msgs != 1 {
		t.Fatalf("messages = %d, want 1", info.State.Msgs)
	}
}

func TestStartEmbeddedNamesTakenPort(t *testing.T) {
	srv := testkit.NATS(t)
	_, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Host: "127.0.0.1", Port: srvPort(t, srv), StoreDir: t.TempDir()}, 2*time.Second)
	if !errors.Is(err, natsx.ErrPortTaken) {
		t.Fatalf("err = %v, want ErrPortTaken", err)
	}
}

func TestRestartKeepsStreams(t *testing.T) {
	srv := testkit.NATS(t)
	js := srv.JetStream(t)
	ctx := context.Background()
	if _, err := js.Publish(ctx, schemas.UsageSubject("eu-1", "gw-1"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	js = srv.JetStream(t)
	st, err := js.Stream(ctx, schemas.StreamUsage)
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != 1 {
		t.Fatalf("messages after restart = %d", info.State.Msgs)
	}
}

func srvPort(t *testing.T, srv *testkit.NATSServer) int {
	t.Helper()
	return srv.Server.Addr().(*net.TCPAddr).Port
}
