package noderegistry

import (
	"net/netip"
	"regexp"
	"strings"
)

// SSMethods are the AEAD ciphers go-shadowsocks2 (the gateway's client) supports.
var SSMethods = []string{"chacha20-ietf-poly1305", "aes-128-gcm", "aes-256-gcm"}

var (
	namePattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	hostnamePattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	uuidPattern     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

const (
	maxHostLen     = 253
	maxTextLen     = 200
	maxPasswordLen = 512
	maxSessionsCap = 1_000_000
	maxExcludedIDs = 1000
)

// validName reports whether s can be a region code or a gateway name: it also becomes a NATS
// subject token.
func validName(s string) bool { return namePattern.MatchString(s) }

// validHost accepts an IP address or a DNS host name (compose and Kubernetes address nodes by name).
func validHost(s string) bool {
	if s == "" || len(s) > maxHostLen {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return hostnamePattern.MatchString(s) && strings.ContainsFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
}

func validUUID(s string) bool { return uuidPattern.MatchString(s) }
