package upstream

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

var specialRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Resolver is the part of *net.Resolver the policy uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy decides which resolved addresses a stream may reach: anything public, plus the
// loopback, private, link-local and other special ranges only when an allow-list prefix
// admits them.
type Policy struct {
	allow    []netip.Prefix
	resolver Resolver
}

func NewPolicy(allow []netip.Prefix, resolver Resolver) Policy {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	return Policy{allow: allow, resolver: resolver}
}

func (p Policy) Permits(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p.allow {
		if pre.Contains(a) {
			return true
		}
	}
	return !restricted(a)
}

func restricted(a netip.Addr) bool {
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, pre := range specialRanges {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve turns a "host:port" target into the address to dial, resolving host names at the
// gateway so the policy sees the address actually used. IPv4 answers are preferred.
func (p Policy) Resolve(ctx context.Context, target string) (netip.AddrPort, error) {
	host, portText, err := net.SplitHostPort(target)
	if err != nil {
		return netip.AddrPort{}, unreachable(metrics.DialResolve, "target %q is not host:port", target)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 || host == "" {
		return netip.AddrPort{}, unreachable(metrics.DialResolve, "target %q needs a host and a port from 1 to 65535", target)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return netip.AddrPort{}, forbidden("target %s has an IPv6 zone", target)
		}
		if !p.Permits(a) {
			return netip.AddrPort{}, forbidden("target %s is in a loopback, private, link-local or reserved range", a)
		}
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, unreachable(metrics.DialResolve, "cannot resolve %s", host)
	}
	var chosen netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if !p.Permits(a) {
			continue
		}
		if a.Is4() {
			chosen = a
			break
		}
		if !chosen.IsValid() {
			chosen = a
		}
	}
	if !chosen.IsValid() {
		return netip.AddrPort{}, forbidden("%s resolves only to loopback, private, link-local or reserved addresses", host)
	}
	return netip.AddrPortFrom(chosen, uint16(port)), nil
}
