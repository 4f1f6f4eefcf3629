package natsauth_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestProductionClusterIsolatesIdentities(t *testing.T) {
	c := testkit.StartSecureNATS(t, 3, "gw-a", "gw-b")
	accounts := connect(t, c, natsauth.RoleService, natsauth.Accounts)
	replies := make(chan string, 4)
	if _, err := accounts.nc.Subscribe(schemas.SubjectValidateDevice, func(m *nats.Msg) {
		replies <- m.Reply
		_ = m.Respond([]byte(`{"ok":true,"secret":"device-token-of-gw-b"}`))
	}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	gwA := connect(t, c, natsauth.RoleGateway, "gw-a")
	gwB := connect(t, c, natsauth.RoleGateway, "gw-b")

	t.Run("a gateway cannot read another gateway's replies", func(t *testing.T) {
		for _, subject := range []string{natsauth.GatewayInbox("gw-b") + ".>", "_INBOX.>", ">"} {
			stolen := make(chan *nats.Msg, 1)
			sub, err := gwA.nc.Subscribe(subject, func(m *nats.Msg) { stolen <- m })
			if err != nil {
				t.Fatal(err)
			}
			gwA.wantViolation(t, "subscribe "+subject)
			msg, err := gwB.nc.Request(schemas.SubjectValidateDevice, []byte(`{}`), 5*time.Second)
			if err != nil {
				t.Fatalf("gw-b request: %v", err)
			}
			if reply := <-replies; !strings.HasPrefix(reply, natsauth.GatewayInbox("gw-b")+".") {
				t.Fatalf("gw-b's reply subject %q is outside its inbox prefix", reply)
			}
			if !strings.Contains(string(msg.Data), "gw-b") {
				t.Fatalf("gw-b got %s", msg.Data)
			}
			if err := gwA.nc.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-stolen:
				t.Fatalf("gw-a read %s on %s", m.Data, m.Subject)
			default:
			}
			_ = sub.Unsubscribe()
		}
	})

	t.Run("a gateway publishes only its own usage, sessions, heartbeat and slot requests", func(t *testing.T) {
		js, err := jetstream.New(gwA.nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, subject := range []string{schemas.UsageSubject("eu-1", "gw-a"), schemas.SessionSubject(schemas.SessionStartedEvent, "gw-a")} {
			if _, err := js.Publish(ctx, subject, []byte(`{}`)); err != nil {
				select {
				case aerr := <-gwA.errors:
					t.Fatalf("own subject %s: %v (async %v)", subject, err, aerr)
				default:
				}
				t.Fatalf("own subject %s: %v", subject, err)
			}
		}
		if err := gwA.nc.Publish(schemas.GatewayHeartbeatSubject("gw-a"), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		before := streamMessages(t, c, schemas.StreamUsage) + streamMessages(t, c, schemas.StreamSessions)
		forbidden := []string{
			schemas.UsageSubject("eu-1", "gw-b"),
			schemas.SessionSubject(schemas.SessionEndedEvent, "gw-b"),
			schemas.GatewayHeartbeatSubject("gw-b"),
			schemas.ControlSubject(schemas.ScopeUser, "1", schemas.ControlKick),
			schemas.ControlSubject(schemas.ScopeGateway, "gw-b", schemas.ControlKick),
			schemas.AdminSubject(schemas.ResourceDevices, schemas.VerbList),
			schemas.AdminSubject(schemas.ResourceUsers, schemas.VerbCreate),
			"$JS.API.STREAM.DELETE." + schemas.StreamUsage,
		}
		forbidden = append(forbidden, schemas.GatewaySlotSubjects("gw-b")...)
		for _, subject := range schemas.GatewaySlotSubjects("gw-a") {
			if err := gwA.nc.Publish(subject, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		if err := gwA.nc.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-gwA.errors:
			t.Fatalf("own slot requests: %v", err)
		default:
		}
		for _, subject := range forbidden {
			if err := gwA.nc.Publish(subject, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			gwA.wantViolation(t, "publish "+subject)
		}
		if after := streamMessages(t, c, schemas.StreamUsage) + streamMessages(t, c, schemas.StreamSessions); after != before {
			t.Fatalf("streams grew from %d to %d messages", before, after)
		}
	})

	t.Run("neither a gateway nor the edge can consume a stream", func(t *testing.T) {
		edge := connect(t, c, natsauth.RoleService, natsauth.Edge)
		for name, id := range map[string]*identity{"gateway": gwA, "edge": edge} {
			js, err := jetstream.New(id.nc)
			if err != nil {
				t.Fatal(err)
			}
			for _, stream := range []string{schemas.StreamUsage, schemas.StreamSessions, schemas.StreamHeartbeats} {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, err := js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "thief", AckPolicy: jetstream.AckExplicitPolicy})
				cancel()
				if err == nil {
					t.Fatalf("%s created a consumer on %s", name, stream)
				}
				id.wantViolation(t, name+" consumer on "+stream)
			}
		}
		js, _ := jetstream.New(connect(t, c, natsauth.RoleService, natsauth.Operator).nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := js.Consumer(ctx, schemas.StreamUsage, "thief"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Fatalf("consumer thief: %v, want not found", err)
		}
	})

	t.Run("a gateway follows the CONTROL stream, which accounts stores into", func(t *testing.T) {
		gwJS, err := jetstream.New(gwA.nc)
		if err != nil {
			t.Fatal(err)
		}
		since := time.Now().Add(-time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cons, err := gwJS.OrderedConsumer(ctx, schemas.StreamControl, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
		})
		if err != nil {
			t.Fatalf("gateway ordered consumer on CONTROL: %v", err)
		}
		accJS, err := jetstream.New(accounts.nc)
		if err != nil {
			t.Fatal(err)
		}
		ev := schemas.ControlEvent{Scope: schemas.ScopeUser, ID: "7", What: schemas.ControlKick, Code: schemas.CodeUserBanned}
		if _, err := natsx.PublishControl(ctx, accJS, ev, 5*time.Second); err != nil {
			t.Fatalf("accounts stores a control event: %v", err)
		}
		msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("gateway reads the control event: %v", err)
		}
		if msg.Subject() != ev.Subject() {
			t.Fatalf("gateway read %s, want %s", msg.Subject(), ev.Subject())
		}
	})

	t.Run("revoking one gateway leaves the others connected", func(t *testing.T) {
		if err := c.Store.Remove(natsauth.RoleGateway, "gw-b"); err != nil {
			t.Fatal(err)
		}
		c.Reload(t)
		waitClosed(t, gwB.nc)
		if _, err := c.Dial(c.Auth(natsauth.RoleGateway, "gw-a"), make(chan error, 1)); err != nil {
			t.Fatalf("gw-a reconnect: %v", err)
		}
		if !gwA.nc.IsConnected() || gwA.nc.Stats().Reconnects != 0 {
			t.Fatalf("gw-a connected %v after %d reconnects", gwA.nc.IsConnected(), gwA.nc.Stats().Reconnects)
		}
		if _, err := gwA.nc.Request(schemas.SubjectValidateDevice, []byte(`{}`), 5*time.Second); err != nil {
			t.Fatalf("gw-a request after the revocation: %v", err)
		}
	})
}

func TestProductionClusterRefusesStrangers(t *testing.T) {
	c := testkit.StartSecureNATS(t, 3, "gw-a")

	t.Run("a client without TLS", func(t *testing.T) {
		_, err := nats.Connect("nats://127.0.0.1:"+strconv.Itoa(c.Ports[0]), nats.MaxReconnects(0), nats.Timeout(2*time.Second))
		if err == nil || !strings.Contains(err.Error(), "tls") {
			t.Fatalf("err = %v, want a TLS failure", err)
		}
	})
	t.Run("a TLS client without an nkey", func(t *testing.T) {
		_, err := nats.Connect(c.URL(0), nats.RootCAs(c.CA), nats.MaxReconnects(0), nats.Timeout(2*time.Second))
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("err = %v, want an authorization violation", err)
		}
	})
	legit, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		name   string
		tls    bool
		cert   []tls.Certificate
		served bool
	}{
		{name: "a route with the cluster's certificate is served", tls: true, cert: []tls.Certificate{legit}, served: true},
		{name: "a route in plain text is refused", tls: false},
		{name: "a TLS route without a certificate is refused", tls: true},
	}
	for _, tt := range routes {
		t.Run(tt.name, func(t *testing.T) {
			info, err := dialRoute(c.Routes[0], tt.tls, tt.cert)
			if served := err == nil && strings.HasPrefix(info, "INFO "); served != tt.served {
				t.Fatalf("served = %v (read %q, %v)", served, info, err)
			}
		})
	}
	t.Run("monitoring is not public", func(t *testing.T) {
		for i, srv := range c.Servers {
			if addr := srv.MonitorAddr(); addr != nil && !addr.IP.IsLoopback() {
				t.Fatalf("nats-%d monitors on %s", i+1, addr)
			}
		}
		opts, err := server.ProcessConfigFile(c.ShippedConfig(0))
		if err != nil {
			t.Fatal(err)
		}
		if opts.HTTPHost != "127.0.0.1" {
			t.Fatalf("shipped monitoring host %q", opts.HTTPHost)
		}
	})
}

func streamMessages(tb testing.TB, c *testkit.SecureNATS, stream string) uint64 {
	tb.Helper()
	js, err := jetstream.New(c.Conn(tb, natsauth.RoleService, natsauth.Operator))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

func waitClosed(tb testing.TB, nc *nats.Conn) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for nc.IsConnected() {
		if time.Now().After(deadline) {
			tb.Fatal("the revoked gateway is still connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dialRoute opens a connection to a route port and returns the first line the server sends.
func dialRoute(port int, useTLS bool, certs []tls.Certificate) (string, error) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if useTLS {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, Certificates: certs})
		if err := tc.Handshake(); err != nil {
			return "", err
		}
		conn = tc
	} else if _, err := conn.Write([]byte("CONNECT {}\r\nPING\r\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}
