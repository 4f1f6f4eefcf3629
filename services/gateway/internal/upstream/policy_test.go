package upstream_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

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
		"public.test":   addrs("2001:db8::1", "93.184.216.34"),
		"v6only.test":   addrs("2606:4700::1"),
		"private.test":  addrs("10.0.0.7", "192.168.0.1"),
		"mixed.test":    addrs("127.0.0.1", "93.184.216.35"),
		"admitted.test": addrs("10.9.9.9"),
	}
	policy := upstream.NewPolicy([]netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}, resolver)
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
		{"missing.test:80", "", schemas.CodeUpstreamUnreachable},
		{"public.test:0", "", schemas.CodeUpstreamUnreachable},
		{"public.test", "", schemas.CodeUpstreamUnreachable},
		{":80", "", schemas.CodeUpstreamUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
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
