package gateway

import (
	"net/netip"

	"github.com/httvps/httvps/shared/config"
)

// internalRanges are the destinations an allow-list must not open in production: loopback,
// private, link-local, CGNAT, unique-local and unspecified addresses.
var internalRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

func checkProduction(env *config.Env, c Config) {
	for _, allowed := range c.AllowTargets {
		for _, internal := range internalRanges {
			if allowed.Overlaps(internal) {
				env.Refuse(EnvAllowTargets, "%s admits the loopback or private range %s", allowed, internal)
				return
			}
		}
	}
}
