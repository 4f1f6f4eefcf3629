package rpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type echoReq struct {
	Name string `json:"name"`
}

type echoRep struct {
	Greeting string `json:"greeting"`
}

func startEcho(tb testing.TB, nc *nats.Conn, subject string) *rpc.Metrics {
	tb.Helper()
	m, err := rpc.NewMetrics(prometheus.NewRegistry(), "echo")
	if err != nil {
		tb.Fatal(err)
	}
	srv := rpc.Server{Log: testkit.Logger(tb), Metrics: m}
	svc, err := micro.AddService(nc, micro.Config{Name: "echo", Version: "1.0.0"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("echo", rpc.Handle(srv, "echo", func(_ context.Context, r echoReq) (echoRep, error) {
		switch r.Name {
		case "":
			return echoRep{}, rpc.Errorf(schemas.CodeInvalidArgument, "field name: required")
		case "limit":
			return echoRep{}, &schemas.RPCError{Code: schemas.CodeLimitReached, Message: "over", Limit: schemas.LimitTraffic}
		case "boom":
			return echoRep{}, errors.New("database on fire")
		}
		return echoRep{Greeting: "hello " + r.Name}, nil
	}), micro.WithEndpointSubject(subject))
	if err != nil {
		tb.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestCallOutcomes(t *testing.T) {
	const subject = "httvps.test.echo"
	srv := testkit.NATS(t)
	m := startEcho(t, srv.Conn(t), subject)
	conn := srv.Conn(t)
	tests := []struct {
		name     string
		req      any
		want     string
		wantCode schemas.ErrorCode
	}{
		{"ok", echoReq{Name: "ann"}, "hello ann", ""},
		{"business error keeps its code", echoReq{}, "", schemas.CodeInvalidArgument},
		{"unknown field is rejected", map[string]any{"name": "x", "extra": 1}, "", schemas.CodeInvalidArgument},
		{"internal error hides details", echoReq{Name: "boom"}, "", schemas.CodeInternal},
		{"error keeps its limit", echoReq{Name: "limit"}, "", schemas.CodeLimitReached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := rpc.Call[echoRep](context.Background(), conn, subject, tt.req, 2*time.Second)
			if tt.wantCode == "" {
				if err != nil || rep.Greeting != tt.want {
					t.Fatalf("rep=%+v err=%v", rep, err)
				}
				return
			}
			re, ok := rpc.AsRPCError(err)
			if !ok || re.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			if tt.wantCode == schemas.CodeLimitReached && re.Limit != schemas.LimitTraffic {
				t.Fatalf("limit lost: %+v", re)
			}
			if tt.wantCode == schemas.CodeInternal && re.Message != "internal error" {
				t.Fatalf("internal message leaked: %q", re.Message)
			}
		})
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("echo", "ok")); got != 1 {
		t.Fatalf("ok requests metric = %v", got)
	}
}

func TestCallWithoutResponderIsUnavailable(t *testing.T) {
	nc := testkit.NATS(t).Conn(t)
	start := time.Now()
	_, err := rpc.Call[echoRep](context.Background(), nc, "httvps.test.nobody", echoReq{Name: "x"}, 2*time.Second)
	if !errors.Is(err, rpc.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("no-responders took the whole timeout")
	}
}

func TestCallTimeoutIsUnavailable(t *testing.T) {
	nc := testkit.NATS(t).Conn(t)
	sub, err := nc.Subscribe("httvps.test.silent", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_, err = rpc.Call[echoRep](context.Background(), nc, "httvps.test.silent", echoReq{Name: "x"}, 200*time.Millisecond)
	if !errors.Is(err, rpc.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
