package upstream_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/upstream"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestResolve(t *testing.T) {
	resolver := fakeResolver{
		"public.test":    addrs("2001:db8::1", "93.184.216.34"),
		"v6only.test":    addrs("2606:4700::1"),
		"private.test":   addrs("10.0.0.7", "192.168.0.1"),
		"mixed.test":     addrs("127.0.0.1", "93.184.216.35"),
		"admitted.test":  addrs("10.9.9.9"),
		"nat64.test":     addrs("64:ff9b::a00:5"),
		"sixtofour.test": addrs("2002:a00:5::1", "93.184.216.36"),
	}
	policy := upstream.NewPolicy(upstream.PolicyConfig{
		AllowTargets: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("64:ff9b::a09:0/112")},
		DenyPorts:    []uint16{25}, DNSTimeout: time.Second, DNSConcurrency: 4,
	}, resolver)
	tests := []struct {
		target string
		want   string
		code   schemas.ErrorCode
	}{
		{"93.184.216.34:443", "93.184.216.34:443", ""},
		{"public.test:80", "93.184.216.34:80", ""},
		{"v6only.test:80", "[2606:4700::1]:80", ""},
		{"mixed.test:80", "93.184.216.35:80", ""},
		{"admitted.test:22", "10.9.9.9:22", ""},
		{"10.9.1.1:22", "10.9.1.1:22", ""},
		{"private.test:80", "", schemas.CodeTargetForbidden},
		{"127.0.0.1:80", "", schemas.CodeTargetForbidden},
		{"[::ffff:192.168.1.1]:80", "", schemas.CodeTargetForbidden},
		{"[fe80::1%eth0]:80", "", schemas.CodeTargetForbidden},
		{"[64:ff9b::a00:5]:5432", "", schemas.CodeTargetForbidden},
		{"[64:ff9b::5db8:d822]:443", "", schemas.CodeTargetForbidden},
		{"[2002:a00:5::1]:80", "", schemas.CodeTargetForbidden},
		{"[::a00:5]:80", "", schemas.CodeTargetForbidden},
		{"[fec0::1]:80", "", schemas.CodeTargetForbidden},
		{"[64:ff9b::a09:101]:22", "[64:ff9b::a09:101]:22", ""},
		{"nat64.test:80", "", schemas.CodeTargetForbidden},
		{"sixtofour.test:80", "93.184.216.36:80", ""},
		{"93.184.216.34:25", "", schemas.CodeTargetForbidden},
		{"public.test:25", "", schemas.CodeTargetForbidden},
		{"admitted.test:25", "", schemas.CodeTargetForbidden},
		{"missing.test:80", "", schemas.CodeUpstreamUnreachable},
		{"public.test:0", "", schemas.CodeUpstreamUnreachable},
		{"public.test", "", schemas.CodeUpstreamUnreachable},
		{":80", "", schemas.CodeUpstreamUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			got, err := policy.Resolve(context.Background(), tt.target)
			if tt.code == "" {
				if err != nil || got.String() != tt.want {
					t.Fatalf("got %s, %v; want %s", got, err, tt.want)
				}
				return
			}
			var f *upstream.Failure
			if !errors.As(err, &f) || f.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestPortAllowList(t *testing.T) {
	policy := upstream.NewPolicy(upstream.PolicyConfig{DenyPorts: []uint16{25}, AllowPorts: []uint16{80, 443, 25}, DNSTimeout: time.Second, DNSConcurrency: 1}, fakeResolver{})
	tests := []struct {
		target string
		code   schemas.ErrorCode
	}{
		{"93.184.216.34:443", ""},
		{"93.184.216.34:80", ""},
		{"93.184.216.34:22", schemas.CodeTargetForbidden},
		{"93.184.216.34:25", schemas.CodeTargetForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			_, err := policy.Resolve(context.Background(), tt.target)
			assertCode(t, err, tt.code)
		})
	}
}

// blockingResolver answers only when released, like a DNS server that does not reply; it
// gives up at the context's end except for stuck.test, which holds its slot until released.
type blockingResolver struct {
	started chan string
	release chan struct{}
}

func (b blockingResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	b.started <- host
	done := ctx.Done()
	if host == "stuck.test" {
		done = nil
	}
	select {
	case <-b.release:
		return addrs("93.184.216.34"), nil
	case <-done:
		return nil, ctx.Err()
	}
}

func TestDNSBounds(t *testing.T) {
	r := blockingResolver{started: make(chan string, 4), release: make(chan struct{})}
	policy := upstream.NewPolicy(upstream.PolicyConfig{DNSTimeout: 300 * time.Millisecond, DNSConcurrency: 1}, r)

	t.Run("a lookup with no answer ends at the DNS timeout", func(t *testing.T) {
		_, err := policy.Resolve(context.Background(), "silent.test:80")
		assertCode(t, err, schemas.CodeUpstreamUnreachable)
		if !strings.Contains(err.Error(), "no DNS answer within 300ms") {
			t.Fatalf("err = %v", err)
		}
		<-r.started
	})
	t.Run("a lookup waits for a free slot, and gives up at the timeout", func(t *testing.T) {
		first := make(chan error, 1)
		go func() {
			_, err := policy.Resolve(context.Background(), "stuck.test:80")
			first <- err
		}()
		<-r.started
		_, err := policy.Resolve(context.Background(), "queued.test:80")
		assertCode(t, err, schemas.CodeUpstreamUnreachable)
		if !strings.Contains(err.Error(), "1 DNS lookups already in flight") {
			t.Fatalf("err = %v", err)
		}
		close(r.release)
		if err := <-first; err != nil {
			t.Fatalf("the lookup that held the slot: %v", err)
		}
		if got, err := policy.Resolve(context.Background(), "free.test:80"); err != nil || got.String() != "93.184.216.34:80" {
			t.Fatalf("after the slot is free: %s, %v", got, err)
		}
	})
}

func assertCode(t testing.TB, err error, code schemas.ErrorCode) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	var f *upstream.Failure
	if !errors.As(err, &f) || f.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}
