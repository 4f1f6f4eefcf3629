package upstream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

var specialRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	// IPv6 forms that carry an IPv4 address (NAT64, 6to4, IPv4-compatible) or are deprecated
	// site-local: each could reach a private IPv4 network behind a translator.
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("fec0::/10"),
}

// Resolver is the part of *net.Resolver the policy uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

type PolicyConfig struct {
	// AllowTargets admits addresses of the restricted ranges.
	AllowTargets []netip.Prefix
	// DenyPorts are refused; AllowPorts, when not empty, are the only ports admitted.
	DenyPorts  []uint16
	AllowPorts []uint16
	// DNSTimeout bounds one lookup, waiting for a slot included; DNSConcurrency bounds the
	// lookups in flight at once over the whole gateway.
	DNSTimeout     time.Duration
	DNSConcurrency int
}

// Policy decides which resolved addresses a stream may reach: anything public, plus the
// loopback, private, link-local and other special ranges only when an allow-list prefix
// admits them; and which ports.
type Policy struct {
	cfg      PolicyConfig
	resolver Resolver
	lookups  chan struct{}
}

func NewPolicy(cfg PolicyConfig, resolver Resolver) Policy {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	return Policy{cfg: cfg, resolver: resolver, lookups: make(chan struct{}, max(1, cfg.DNSConcurrency))}
}

func (p Policy) Permits(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p.cfg.AllowTargets {
		if pre.Contains(a) {
			return true
		}
	}
	return !restricted(a)
}

func (p Policy) permitsPort(port uint16) bool {
	if slices.Contains(p.cfg.DenyPorts, port) {
		return false
	}
	return len(p.cfg.AllowPorts) == 0 || slices.Contains(p.cfg.AllowPorts, port)
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
	port64, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port64 == 0 || host == "" {
		return netip.AddrPort{}, unreachable(metrics.DialResolve, "target %q needs a host and a port from 1 to 65535", target)
	}
	port := uint16(port64)
	if !p.permitsPort(port) {
		return netip.AddrPort{}, forbidden("port %d is not allowed by the gateway's port policy", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return netip.AddrPort{}, forbidden("target %s has an IPv6 zone", target)
		}
		if !p.Permits(a) {
			return netip.AddrPort{}, forbidden("target %s is in a loopback, private, link-local or reserved range", a)
		}
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var chosen netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Zone() != "" || !p.Permits(a) {
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
	return netip.AddrPortFrom(chosen, port), nil
}

// lookup resolves host within the DNS timeout, waiting for one of the bounded lookup slots.
func (p Policy) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DNSTimeout)
	defer cancel()
	select {
	case p.lookups <- struct{}{}:
	case <-ctx.Done():
		return nil, unreachable(metrics.DialResolve, "cannot resolve %s: %d DNS lookups already in flight for %s", host, cap(p.lookups), p.cfg.DNSTimeout)
	}
	defer func() { <-p.lookups }()
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, unreachable(metrics.DialResolve, "cannot resolve %s: no DNS answer within %s", host, p.cfg.DNSTimeout)
	case err != nil || len(addrs) == 0:
		return nil, unreachable(metrics.DialResolve, "cannot resolve %s", host)
	}
	return addrs, nil
}
