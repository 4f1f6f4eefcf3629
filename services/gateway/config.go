// Package gateway is the HTTVPS data plane: TLS WebSocket sessions from clients, multiplexed
// streams relayed through Shadowsocks to Outline nodes, the control plane reached over NATS only.
package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
)

const (
	EnvConfigFile        = "HTTVPS_GATEWAY_CONFIG"
	EnvGatewayID         = "HTTVPS_GATEWAY_ID"
	EnvRegion            = "HTTVPS_GATEWAY_REGION"
	EnvPublicIP          = "HTTVPS_GATEWAY_PUBLIC_IP"
	EnvInternalIP        = "HTTVPS_GATEWAY_INTERNAL_IP"
	EnvListen            = "HTTVPS_GATEWAY_LISTEN"
	EnvTLSCert           = "HTTVPS_GATEWAY_TLS_CERT"
	EnvTLSKey            = "HTTVPS_GATEWAY_TLS_KEY"
	EnvTLSDir            = "HTTVPS_GATEWAY_TLS_DIR"
	EnvNATSURL           = natsx.EnvURL
	EnvNATSNkeyFile      = natsx.EnvNkeyFile
	EnvNATSCAFile        = natsx.EnvCAFile
	EnvNATSCertFile      = natsx.EnvCertFile
	EnvNATSKeyFile       = natsx.EnvKeyFile
	EnvLogLevel          = "HTTVPS_LOG_LEVEL"
	EnvMetrics           = "HTTVPS_GATEWAY_METRICS"
	EnvHelloTimeout      = "HTTVPS_HELLO_TIMEOUT"
	EnvRequestTimeout    = "HTTVPS_GATEWAY_REQUEST_TIMEOUT"
	EnvDialTimeout       = "HTTVPS_GATEWAY_DIAL_TIMEOUT"
	EnvPingInterval      = "HTTVPS_GATEWAY_PING_INTERVAL"
	EnvIdleTimeout       = "HTTVPS_GATEWAY_IDLE_TIMEOUT"
	EnvWriteTimeout      = "HTTVPS_GATEWAY_WRITE_TIMEOUT"
	EnvShutdownTimeout   = "HTTVPS_GATEWAY_SHUTDOWN_TIMEOUT"
	EnvMaxStreams        = "HTTVPS_MAX_STREAMS"
	EnvMaxFrameSize      = "HTTVPS_GATEWAY_MAX_FRAME_SIZE"
	EnvStreamWindow      = "HTTVPS_GATEWAY_STREAM_WINDOW"
	EnvMaxStreamWindow   = "HTTVPS_GATEWAY_MAX_STREAM_WINDOW"
	EnvSessionWindow     = "HTTVPS_GATEWAY_SESSION_WINDOW"
	EnvSessionMemory     = "HTTVPS_GATEWAY_SESSION_MEMORY"
	EnvMemory            = "HTTVPS_GATEWAY_MEMORY"
	EnvMaxSessions       = "HTTVPS_GATEWAY_MAX_SESSIONS"
	EnvMaxPerAddress     = "HTTVPS_GATEWAY_MAX_SESSIONS_PER_ADDRESS"
	EnvMaxHandshakes     = "HTTVPS_GATEWAY_MAX_HANDSHAKES"
	EnvStreamOpenRate    = "HTTVPS_GATEWAY_STREAM_OPEN_RATE"
	EnvStreamOpenBurst   = "HTTVPS_GATEWAY_STREAM_OPEN_BURST"
	EnvProxyHeader       = "HTTVPS_GATEWAY_TRUSTED_PROXY_HEADER"
	EnvTrustedProxies    = "HTTVPS_GATEWAY_TRUSTED_PROXIES"
	EnvUsageInterval     = "HTTVPS_USAGE_INTERVAL"
	EnvHeartbeatInterval = "HTTVPS_HEARTBEAT_INTERVAL"
	EnvPendingLimit      = "HTTVPS_GATEWAY_PENDING_LIMIT"
	EnvAllowTargets      = "HTTVPS_GATEWAY_ALLOW_TARGETS"
	EnvUDPMaxFlows       = "HTTVPS_GATEWAY_UDP_MAX_FLOWS"
	EnvUDPMaxDatagram    = "HTTVPS_GATEWAY_UDP_MAX_DATAGRAM"
	EnvUDPRate           = "HTTVPS_GATEWAY_UDP_RATE"
	EnvUDPIdleTimeout    = "HTTVPS_GATEWAY_UDP_IDLE_TIMEOUT"
	EnvDenyPorts         = "HTTVPS_GATEWAY_DENY_PORTS"
	EnvAllowPorts        = "HTTVPS_GATEWAY_ALLOW_PORTS"
	EnvDNSTimeout        = "HTTVPS_GATEWAY_DNS_TIMEOUT"
	EnvDNSConcurrency    = "HTTVPS_GATEWAY_DNS_CONCURRENCY"
	EnvNodeAttempts      = "HTTVPS_GATEWAY_NODE_ATTEMPTS"
	EnvReplayLimit       = "HTTVPS_GATEWAY_REPLAY_LIMIT"
	EnvNodeProbeInterval = "HTTVPS_GATEWAY_NODE_PROBE_INTERVAL"
	EnvNodeProbeFor      = "HTTVPS_GATEWAY_NODE_PROBE_FOR"
	EnvNodeSpareIdle     = "HTTVPS_GATEWAY_NODE_SPARE_IDLE"
	EnvDialReportGap     = "HTTVPS_GATEWAY_DIAL_REPORT_GAP"
	EnvRevalidate        = "HTTVPS_GATEWAY_REVALIDATE_INTERVAL"
	EnvLeaseBytes        = "HTTVPS_GATEWAY_LEASE_BYTES"
	EnvKeepaliveInterval = "HTTVPS_GATEWAY_KEEPALIVE_INTERVAL"
)

const (
	minFrameSize = 1 << 10
	maxFrameSize = 1 << 20
	minWindow    = 16 << 10
	maxWindow    = 64 << 20
	minLease     = 64 << 10
	maxLease     = 1 << 30
)

type Config struct {
	GatewayID         string
	Region            string
	PublicIP          string
	InternalIP        string
	Listen            string
	TLSCert           string
	TLSKey            string
	TLSDir            string
	NATSURL           string
	NATSAuth          natsx.Auth
	LogLevel          string
	Metrics           bool
	HelloTimeout      time.Duration
	RequestTimeout    time.Duration
	DialTimeout       time.Duration
	PingInterval      time.Duration
	IdleTimeout       time.Duration
	WriteTimeout      time.Duration
	ShutdownTimeout   time.Duration
	MaxStreams        int
	MaxFrameSize      int
	StreamWindow      int
	MaxStreamWindow   int
	SessionWindow     int
	Protection        Protection
	UsageInterval     time.Duration
	HeartbeatInterval time.Duration
	PendingLimit      int
	AllowTargets      []netip.Prefix
	UDPMaxFlows       int
	// UDPMaxDatagram is lowered to what fits a JSON udp_data frame of MaxFrameSize.
	UDPMaxDatagram    int
	UDPRate           int
	UDPIdleTimeout    time.Duration
	DenyPorts         []uint16
	AllowPorts        []uint16
	DNSTimeout        time.Duration
	DNSConcurrency    int
	NodeAttempts      int
	ReplayLimit       int
	NodeProbeInterval time.Duration
	NodeProbeFor      time.Duration
	NodeSpareIdle     time.Duration
	DialReportGap     time.Duration
	// RevalidateInterval is how often live sessions are validated again (also after every
	// reconnect to NATS).
	RevalidateInterval time.Duration
	// LeaseBytes is the traffic a session asks the control plane for at once.
	LeaseBytes int
	// KeepaliveInterval renews the session slots; it must stay well below the aggregator's
	// HTTVPS_SESSION_SLOT_TTL.
	KeepaliveInterval time.Duration
}

func DefaultConfig() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "local"
	}
	return Config{
		GatewayID:          "gw-" + host,
		Region:             "",
		Listen:             "0.0.0.0:8443",
		TLSDir:             ".data/tls",
		NATSURL:            "nats://127.0.0.1:4222",
		LogLevel:           "info",
		Metrics:            true,
		HelloTimeout:       10 * time.Second,
		RequestTimeout:     3 * time.Second,
		DialTimeout:        5 * time.Second,
		PingInterval:       20 * time.Second,
		IdleTimeout:        60 * time.Second,
		WriteTimeout:       15 * time.Second,
		ShutdownTimeout:    10 * time.Second,
		MaxStreams:         256,
		MaxFrameSize:       64 << 10,
		StreamWindow:       256 << 10,
		MaxStreamWindow:    8 << 20,
		SessionWindow:      16 << 20,
		Protection:         DefaultProtection(),
		UsageInterval:      10 * time.Second,
		HeartbeatInterval:  5 * time.Second,
		PendingLimit:       100000,
		DenyPorts:          []uint16{25},
		DNSTimeout:         5 * time.Second,
		DNSConcurrency:     256,
		NodeAttempts:       3,
		ReplayLimit:        16 << 10,
		NodeProbeInterval:  2 * time.Second,
		NodeProbeFor:       10 * time.Minute,
		NodeSpareIdle:      10 * time.Second,
		DialReportGap:      time.Second,
		RevalidateInterval: 5 * time.Minute,
		UDPMaxFlows:        64,
		UDPMaxDatagram:     16 << 10,
		UDPRate:            10000,
		UDPIdleTimeout:     5 * time.Minute,
		LeaseBytes:         8 << 20,
		KeepaliveInterval:  10 * time.Second,
	}
}

// LoadConfig reads the gateway settings: the YAML file named by HTTVPS_GATEWAY_CONFIG first,
// then the environment, which wins. Problems are collected in env (see env.Err).
func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	src := newSource(env)
	c := Config{
		GatewayID:          src.get(EnvGatewayID).String(EnvGatewayID, d.GatewayID),
		Region:             src.get(EnvRegion).String(EnvRegion, d.Region),
		PublicIP:           src.get(EnvPublicIP).String(EnvPublicIP, d.PublicIP),
		InternalIP:         src.get(EnvInternalIP).String(EnvInternalIP, d.InternalIP),
		Listen:             src.get(EnvListen).HostPort(EnvListen, d.Listen),
		TLSCert:            src.get(EnvTLSCert).String(EnvTLSCert, d.TLSCert),
		TLSKey:             src.get(EnvTLSKey).String(EnvTLSKey, d.TLSKey),
		TLSDir:             src.get(EnvTLSDir).String(EnvTLSDir, d.TLSDir),
		NATSURL:            src.get(EnvNATSURL).String(EnvNATSURL, d.NATSURL),
		LogLevel:           src.get(EnvLogLevel).OneOf(EnvLogLevel, d.LogLevel, "trace", "debug", "info", "warn", "error"),
		Metrics:            src.get(EnvMetrics).Bool(EnvMetrics, d.Metrics),
		HelloTimeout:       src.get(EnvHelloTimeout).Duration(EnvHelloTimeout, d.HelloTimeout, 10*time.Millisecond),
		RequestTimeout:     src.get(EnvRequestTimeout).Duration(EnvRequestTimeout, d.RequestTimeout, 10*time.Millisecond),
		DialTimeout:        src.get(EnvDialTimeout).Duration(EnvDialTimeout, d.DialTimeout, 10*time.Millisecond),
		PingInterval:       src.get(EnvPingInterval).Duration(EnvPingInterval, d.PingInterval, 10*time.Millisecond),
		IdleTimeout:        src.get(EnvIdleTimeout).Duration(EnvIdleTimeout, d.IdleTimeout, 20*time.Millisecond),
		WriteTimeout:       src.get(EnvWriteTimeout).Duration(EnvWriteTimeout, d.WriteTimeout, 10*time.Millisecond),
		ShutdownTimeout:    src.get(EnvShutdownTimeout).Duration(EnvShutdownTimeout, d.ShutdownTimeout, 100*time.Millisecond),
		MaxStreams:         src.get(EnvMaxStreams).Int(EnvMaxStreams, d.MaxStreams, 1, 65535),
		MaxFrameSize:       src.get(EnvMaxFrameSize).Int(EnvMaxFrameSize, d.MaxFrameSize, minFrameSize, maxFrameSize),
		StreamWindow:       src.get(EnvStreamWindow).Int(EnvStreamWindow, d.StreamWindow, minWindow, maxWindow),
		MaxStreamWindow:    src.get(EnvMaxStreamWindow).Int(EnvMaxStreamWindow, d.MaxStreamWindow, minWindow, maxWindow),
		SessionWindow:      src.get(EnvSessionWindow).Int(EnvSessionWindow, d.SessionWindow, 0, 1<<30),
		Protection:         loadProtection(src, d.Protection),
		UsageInterval:      src.get(EnvUsageInterval).Duration(EnvUsageInterval, d.UsageInterval, 10*time.Millisecond),
		HeartbeatInterval:  src.get(EnvHeartbeatInterval).Duration(EnvHeartbeatInterval, d.HeartbeatInterval, 10*time.Millisecond),
		PendingLimit:       src.get(EnvPendingLimit).Int(EnvPendingLimit, d.PendingLimit, 1, 10_000_000),
		DNSTimeout:         src.get(EnvDNSTimeout).Duration(EnvDNSTimeout, d.DNSTimeout, 10*time.Millisecond),
		DNSConcurrency:     src.get(EnvDNSConcurrency).Int(EnvDNSConcurrency, d.DNSConcurrency, 1, 65536),
		NodeAttempts:       src.get(EnvNodeAttempts).Int(EnvNodeAttempts, d.NodeAttempts, 1, 16),
		ReplayLimit:        src.get(EnvReplayLimit).Int(EnvReplayLimit, d.ReplayLimit, 0, 1<<20),
		NodeProbeInterval:  src.get(EnvNodeProbeInterval).Duration(EnvNodeProbeInterval, d.NodeProbeInterval, 10*time.Millisecond),
		NodeProbeFor:       src.get(EnvNodeProbeFor).Duration(EnvNodeProbeFor, d.NodeProbeFor, 10*time.Millisecond),
		NodeSpareIdle:      src.get(EnvNodeSpareIdle).Duration(EnvNodeSpareIdle, d.NodeSpareIdle, 0),
		DialReportGap:      src.get(EnvDialReportGap).Duration(EnvDialReportGap, d.DialReportGap, 10*time.Millisecond),
		RevalidateInterval: src.get(EnvRevalidate).Duration(EnvRevalidate, d.RevalidateInterval, 100*time.Millisecond),
		UDPMaxFlows:        src.get(EnvUDPMaxFlows).Int(EnvUDPMaxFlows, d.UDPMaxFlows, 1, 4096),
		UDPMaxDatagram:     src.get(EnvUDPMaxDatagram).Int(EnvUDPMaxDatagram, d.UDPMaxDatagram, 512, 65507),
		UDPRate:            src.get(EnvUDPRate).Int(EnvUDPRate, d.UDPRate, 1, 10_000_000),
		UDPIdleTimeout:     src.get(EnvUDPIdleTimeout).Duration(EnvUDPIdleTimeout, d.UDPIdleTimeout, 10*time.Millisecond),
		LeaseBytes:         src.get(EnvLeaseBytes).Int(EnvLeaseBytes, d.LeaseBytes, minLease, maxLease),
		KeepaliveInterval:  src.get(EnvKeepaliveInterval).Duration(EnvKeepaliveInterval, d.KeepaliveInterval, 10*time.Millisecond),
	}
	c.DenyPorts = ports(env, EnvDenyPorts, src.get(EnvDenyPorts).List(EnvDenyPorts, portStrings(d.DenyPorts)))
	c.AllowPorts = ports(env, EnvAllowPorts, src.get(EnvAllowPorts).List(EnvAllowPorts, nil))
	allow := src.get(EnvAllowTargets).List(EnvAllowTargets, nil)
	prefixes, err := parsePrefixes(allow)
	if err != nil {
		env.Failf(EnvAllowTargets, "%v", err)
	}
	c.AllowTargets = prefixes
	c.NATSAuth = natsx.Auth{
		NkeyFile:    src.get(EnvNATSNkeyFile).String(EnvNATSNkeyFile, ""),
		CAFile:      src.get(EnvNATSCAFile).String(EnvNATSCAFile, ""),
		CertFile:    src.get(EnvNATSCertFile).String(EnvNATSCertFile, ""),
		KeyFile:     src.get(EnvNATSKeyFile).String(EnvNATSKeyFile, ""),
		InboxPrefix: natsauth.GatewayInbox(c.GatewayID),
	}
	natsx.Check(env, c.NATSURL, c.NATSAuth)
	if env.Production() {
		checkProduction(env, c)
	}
	src.finish()
	var invalid *invalidSetting
	if err := c.Validate(); errors.As(err, &invalid) {
		env.Failf(invalid.name, "%s", invalid.problem)
	}
	return c
}

func parsePrefixes(items []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(items))
	for _, item := range items {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR prefix nor an IP address", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// noPorts as the whole value is an empty port list (an empty variable means the default).
const noPorts = "none"

func ports(env *config.Env, name string, items []string) []uint16 {
	out := make([]uint16, 0, len(items))
	if len(items) == 1 && items[0] == noPorts {
		return out
	}
	for _, item := range items {
		p, err := strconv.ParseUint(item, 10, 16)
		if err != nil || p == 0 {
			env.Failf(name, "%q is not a port from 1 to 65535", item)
			continue
		}
		out = append(out, uint16(p))
	}
	return out
}

func portStrings(ports []uint16) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(int(p))
	}
	return out
}

type invalidSetting struct{ name, problem string }

func (e *invalidSetting) Error() string { return e.name + ": " + e.problem }

func invalid(name, format string, args ...any) error {
	return &invalidSetting{name: name, problem: fmt.Sprintf(format, args...)}
}

// Validate checks every setting and the relations between them; the error names the variable.
func (c Config) Validate() error {
	positive := []struct {
		name string
		d    time.Duration
	}{
		{EnvHelloTimeout, c.HelloTimeout}, {EnvRequestTimeout, c.RequestTimeout}, {EnvDialTimeout, c.DialTimeout},
		{EnvWriteTimeout, c.WriteTimeout}, {EnvShutdownTimeout, c.ShutdownTimeout}, {EnvPingInterval, c.PingInterval},
		{EnvUsageInterval, c.UsageInterval}, {EnvHeartbeatInterval, c.HeartbeatInterval},
		{EnvDNSTimeout, c.DNSTimeout}, {EnvNodeProbeInterval, c.NodeProbeInterval}, {EnvNodeProbeFor, c.NodeProbeFor},
		{EnvDialReportGap, c.DialReportGap},
		{EnvRevalidate, c.RevalidateInterval},
		{EnvKeepaliveInterval, c.KeepaliveInterval},
	}
	for _, p := range positive {
		if p.d <= 0 {
			return invalid(p.name, "must be positive")
		}
	}
	switch {
	case c.GatewayID == "":
		return invalid(EnvGatewayID, "must not be empty")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return invalid(EnvTLSCert, "give both %s and %s, or neither for a self-signed pair", EnvTLSCert, EnvTLSKey)
	case c.TLSCert == "" && c.TLSDir == "":
		return invalid(EnvTLSDir, "must name a directory for the self-signed pair when %s is not set", EnvTLSCert)
	case c.Listen == "":
		return invalid(EnvListen, "must not be empty")
	case c.IdleTimeout < 2*c.PingInterval:
		return invalid(EnvIdleTimeout, "%s must be at least twice %s (%s)", c.IdleTimeout, EnvPingInterval, c.PingInterval)
	case c.MaxStreams < 1:
		return invalid(EnvMaxStreams, "must be at least 1")
	case c.MaxFrameSize < minFrameSize || c.MaxFrameSize > maxFrameSize:
		return invalid(EnvMaxFrameSize, "must be from %d to %d bytes", minFrameSize, maxFrameSize)
	case c.StreamWindow < c.MaxFrameSize:
		return invalid(EnvStreamWindow, "%d must be at least %s (%d)", c.StreamWindow, EnvMaxFrameSize, c.MaxFrameSize)
	case c.MaxStreamWindow < c.StreamWindow:
		return invalid(EnvMaxStreamWindow, "%d must be at least %s (%d)", c.MaxStreamWindow, EnvStreamWindow, c.StreamWindow)
	case c.Protection.SessionMemory < 2*c.StreamWindow:
		return invalid(EnvSessionMemory, "%d must be at least twice %s (%d)", c.Protection.SessionMemory, EnvStreamWindow, c.StreamWindow)
	case c.Protection.Memory < c.Protection.SessionMemory:
		return invalid(EnvMemory, "%d must be at least %s (%d)", c.Protection.Memory, EnvSessionMemory, c.Protection.SessionMemory)
	case c.PendingLimit < 1:
		return invalid(EnvPendingLimit, "must be at least 1")
	case c.UDPMaxFlows < 1 || c.UDPRate < 1 || c.UDPIdleTimeout <= 0:
		return invalid(EnvUDPMaxFlows, "%s, %s and %s must be positive", EnvUDPMaxFlows, EnvUDPRate, EnvUDPIdleTimeout)
	case c.UDPMaxDatagram < 1:
		return invalid(EnvUDPMaxDatagram, "must be at least 1")
	case c.DNSConcurrency < 1:
		return invalid(EnvDNSConcurrency, "must be at least 1")
	case c.NodeAttempts < 1:
		return invalid(EnvNodeAttempts, "must be at least 1")
	case c.ReplayLimit < 0:
		return invalid(EnvReplayLimit, "must not be negative")
	case c.LeaseBytes < minLease || c.LeaseBytes > maxLease:
		return invalid(EnvLeaseBytes, "must be from %d to %d bytes", minLease, maxLease)
	}
	return nil
}
