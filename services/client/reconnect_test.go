package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/rs/zerolog"
)

func TestBackoffDelay(t *testing.T) {
	b := NewBackoff(500*time.Millisecond, 30*time.Second)
	b.rand = func() float64 { return 0 }
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second}
	for attempt, w := range want {
		if got := b.Delay(attempt); got != w {
			t.Errorf("attempt %d: %s, want %s", attempt, got, w)
		}
	}
	if got := b.Delay(10_000); got != 30*time.Second {
		t.Errorf("a huge attempt number gives %s, want the cap", got)
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	b := NewBackoff(time.Second, 8*time.Second)
	for _, r := range []float64{0, 0.5, 0.999} {
		b.rand = func() float64 { return r }
		for attempt := range 6 {
			full := min(time.Second<<attempt, 8*time.Second)
			got := b.Delay(attempt)
			if got > full || got < full-full/5 {
				t.Errorf("rand %v attempt %d: %s not in [%s, %s]", r, attempt, got, full-full/5, full)
			}
		}
	}
}

func TestReconnectPolicy(t *testing.T) {
	refused := func(code schemas.ErrorCode) error {
		return &sessionEnded{cause: &GatewayError{Code: code}}
	}
	tests := []struct {
		name  string
		err   error
		lived time.Duration
		retry bool
	}{
		{name: "connection refused", err: errors.New("dial tcp: connection refused"), retry: true},
		{name: "gateway shutdown", err: refused(schemas.CodeGatewayShutdown), retry: true},
		{name: "no capacity", err: &GatewayError{Code: schemas.CodeNoCapacity, Handshake: true}, retry: true},
		{name: "backend unavailable", err: &GatewayError{Code: schemas.CodeBackendUnavailable, Handshake: true}, retry: true},
		{name: "traffic limit", err: &GatewayError{Code: schemas.CodeLimitReached, Limit: schemas.LimitTraffic}, retry: true},
		{name: "kicked", err: refused(schemas.CodeSessionKicked), retry: true},
		{name: "untrusted certificate", err: &CertificateError{Err: errors.New("x509: unknown authority")}},
		{name: "invalid token", err: &GatewayError{Code: schemas.CodeInvalidToken, Handshake: true}},
		{name: "revoked mid-session", err: refused(schemas.CodeDeviceRevoked)},
		{name: "device banned", err: &GatewayError{Code: schemas.CodeDeviceBanned}},
		{name: "user banned", err: &GatewayError{Code: schemas.CodeUserBanned}},
		{name: "no subscription", err: &GatewayError{Code: schemas.CodeNoSubscription}},
		{name: "subscription expired", err: &GatewayError{Code: schemas.CodeSubscriptionExpired}},
		{name: "device not found", err: &GatewayError{Code: schemas.CodeDeviceNotFound}},
		{name: "device limit", err: &GatewayError{Code: schemas.CodeDeviceLimitReached}},
		{name: "unknown region", err: &GatewayError{Code: schemas.CodeRegionUnknown}},
		{name: "replaced by another copy of the device", err: refused(schemas.CodeSessionReplaced)},
		{name: "sessions limit", err: &GatewayError{Code: schemas.CodeLimitReached, Limit: schemas.LimitSessions, Handshake: true}, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := reconnectPolicy{backoff: NewBackoff(time.Second, time.Minute), stableAfter: 30 * time.Second}
			p.backoff.rand = func() float64 { return 0 }
			d, retry := p.next(tt.err, tt.lived)
			if retry != tt.retry {
				t.Fatalf("retry = %v, want %v", retry, tt.retry)
			}
			if retry && d != time.Second {
				t.Fatalf("first delay %s, want 1s", d)
			}
		})
	}
}

func TestReconnectPolicyGrowsAndResetsAfterAStableSession(t *testing.T) {
	p := reconnectPolicy{backoff: NewBackoff(time.Second, time.Minute), stableAfter: 30 * time.Second}
	p.backoff.rand = func() float64 { return 0 }
	lost := errors.New("connection lost")
	steps := []struct {
		lived time.Duration
		want  time.Duration
	}{
		{0, time.Second}, {0, 2 * time.Second}, {5 * time.Second, 4 * time.Second},
		{31 * time.Second, time.Second}, {0, 2 * time.Second},
	}
	for i, s := range steps {
		d, retry := p.next(lost, s.lived)
		if !retry || d != s.want {
			t.Fatalf("step %d (lived %s): %s retry=%v, want %s", i, s.lived, d, retry, s.want)
		}
	}
}

func testTunnel(dial func(ctx context.Context) (*Session, error)) (*Tunnel, *[]time.Duration) {
	cfg := DefaultConfig()
	t := NewTunnel(cfg, zerolog.Nop())
	t.backoff.rand = func() float64 { return 0 }
	var slept []time.Duration
	t.dial = dial
	t.sleep = func(ctx context.Context, d time.Duration) bool {
		slept = append(slept, d)
		return ctx.Err() == nil
	}
	return t, &slept
}

func TestTunnelRetriesWithBackoffUntilRefused(t *testing.T) {
	attempts := 0
	tun, slept := testTunnel(func(context.Context) (*Session, error) {
		attempts++
		if attempts < 5 {
			return nil, fmt.Errorf("connect: attempt %d: connection refused", attempts)
		}
		return nil, &GatewayError{Code: schemas.CodeInvalidToken, Handshake: true}
	})
	err := tun.Run(context.Background())
	ge, ok := AsGatewayError(err)
	if !ok || ge.Code != schemas.CodeInvalidToken {
		t.Fatalf("Run = %v, want INVALID_TOKEN", err)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	if fmt.Sprint(*slept) != fmt.Sprint(want) {
		t.Fatalf("slept %v, want %v", *slept, want)
	}
	if got := err.Error(); got != "the gateway refused this device: its token is not valid (INVALID_TOKEN)" {
		t.Fatalf("message %q", got)
	}
	if _, err := tun.OpenStream(context.Background(), "example.com:80"); !errors.Is(err, ge) {
		t.Fatalf("OpenStream after the refusal = %v, want the refusal", err)
	}
}

func TestTunnelStopsCleanlyOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	attempts := 0
	tun, _ := testTunnel(func(context.Context) (*Session, error) {
		attempts++
		if attempts == 3 {
			cancel()
		}
		return nil, errors.New("connection refused")
	})
	if err := tun.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if attempts != 3 {
		t.Fatalf("%d attempts, want 3", attempts)
	}
	if _, err := tun.OpenStream(context.Background(), "example.com:80"); !errors.Is(err, ErrTunnelStopped) {
		t.Fatalf("OpenStream after Run = %v, want ErrTunnelStopped", err)
	}
}

func TestTunnelOpenStreamWaitsForASession(t *testing.T) {
	tun, _ := testTunnel(func(context.Context) (*Session, error) { return nil, errors.New("down") })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := tun.OpenStream(ctx, "example.com:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("OpenStream without a session = %v, want the context's deadline", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		code  schemas.ErrorCode
		limit schemas.LimitKind
		want  string
	}{
		{schemas.CodeInvalidToken, "", "the gateway refused this device: its token is not valid (INVALID_TOKEN)"},
		{schemas.CodeDeviceRevoked, "", "the gateway refused this device: it has been revoked (DEVICE_REVOKED)"},
		{schemas.CodeLimitReached, schemas.LimitTraffic, "the traffic limit of the plan is used up (LIMIT_REACHED, limit traffic)"},
		{schemas.CodeLimitReached, "", "a limit is reached (LIMIT_REACHED)"},
		{"BRAND_NEW", "", "the gateway reports an error (BRAND_NEW)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := Describe(tt.code, tt.limit); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
	adminOnly := map[schemas.ErrorCode]bool{schemas.CodeInvalidArgument: true, schemas.CodeNotFound: true,
		schemas.CodeConflict: true, schemas.CodeUnauthorized: true, schemas.CodeInternal: true}
	for _, code := range schemas.AllErrorCodes {
		if !adminOnly[code] && strings.HasPrefix(Describe(code, ""), "the gateway reports an error (") {
			t.Errorf("%s has no plain words", code)
		}
	}
}

func TestParseConnectWait(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "auto", want: ConnectWaitAuto},
		{in: " AUTO ", want: ConnectWaitAuto},
		{in: "0", want: 0},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "-1s", bad: true},
		{in: "soon", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseConnectWait(tt.in)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Fatalf("%s, %v", got, err)
			}
		})
	}
}
