package gateway

import "net/netip"

// Protection is what keeps a public gateway standing under abuse (docs/04).
type Protection struct {
	SessionMemory   int
	Memory          int
	MaxSessions     int
	PerAddress      int
	MaxHandshakes   int
	StreamOpenRate  int
	StreamOpenBurst int
	ProxyHeader     string
	TrustedProxies  []netip.Prefix
}

func DefaultProtection() Protection {
	return Protection{
		SessionMemory:   32 << 20,
		Memory:          1 << 30,
		MaxSessions:     20000,
		PerAddress:      64,
		MaxHandshakes:   1024,
		StreamOpenRate:  200,
		StreamOpenBurst: 400,
	}
}

func loadProtection(src *source, d Protection) Protection {
	p := Protection{
		SessionMemory:   src.get(EnvSessionMemory).Int(EnvSessionMemory, d.SessionMemory, 1<<20, 1<<34),
		Memory:          src.get(EnvMemory).Int(EnvMemory, d.Memory, 1<<20, 1<<40),
		MaxSessions:     src.get(EnvMaxSessions).Int(EnvMaxSessions, d.MaxSessions, 0, 10_000_000),
		PerAddress:      src.get(EnvMaxPerAddress).Int(EnvMaxPerAddress, d.PerAddress, 0, 10_000_000),
		MaxHandshakes:   src.get(EnvMaxHandshakes).Int(EnvMaxHandshakes, d.MaxHandshakes, 0, 10_000_000),
		StreamOpenRate:  src.get(EnvStreamOpenRate).Int(EnvStreamOpenRate, d.StreamOpenRate, 0, 1_000_000),
		StreamOpenBurst: src.get(EnvStreamOpenBurst).Int(EnvStreamOpenBurst, d.StreamOpenBurst, 1, 1_000_000),
		ProxyHeader:     src.get(EnvProxyHeader).String(EnvProxyHeader, d.ProxyHeader),
	}
	proxies, err := parsePrefixes(src.get(EnvTrustedProxies).List(EnvTrustedProxies, nil))
	if err != nil {
		src.env.Failf(EnvTrustedProxies, "%v", err)
	}
	p.TrustedProxies = proxies
	if p.ProxyHeader != "" && len(p.TrustedProxies) == 0 {
		src.env.Failf(EnvProxyHeader, "needs %s: the header is honoured only from those proxies", EnvTrustedProxies)
	}
	return p
}
