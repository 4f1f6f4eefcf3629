package gateway

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/httvps/httvps/shared/config"
	"gopkg.in/yaml.v3"
)

// fileKeys maps the keys of the YAML file to the variables they stand for.
var fileKeys = map[string]string{
	"gateway_id":               EnvGatewayID,
	"region":                   EnvRegion,
	"public_ip":                EnvPublicIP,
	"internal_ip":              EnvInternalIP,
	"listen":                   EnvListen,
	"tls_cert":                 EnvTLSCert,
	"tls_key":                  EnvTLSKey,
	"tls_dir":                  EnvTLSDir,
	"nats_url":                 EnvNATSURL,
	"nats_nkey_file":           EnvNATSNkeyFile,
	"nats_ca_file":             EnvNATSCAFile,
	"nats_cert_file":           EnvNATSCertFile,
	"nats_key_file":            EnvNATSKeyFile,
	"log_level":                EnvLogLevel,
	"metrics":                  EnvMetrics,
	"hello_timeout":            EnvHelloTimeout,
	"request_timeout":          EnvRequestTimeout,
	"dial_timeout":             EnvDialTimeout,
	"ping_interval":            EnvPingInterval,
	"idle_timeout":             EnvIdleTimeout,
	"write_timeout":            EnvWriteTimeout,
	"shutdown_timeout":         EnvShutdownTimeout,
	"max_streams":              EnvMaxStreams,
	"max_frame_size":           EnvMaxFrameSize,
	"stream_window":            EnvStreamWindow,
	"max_stream_window":        EnvMaxStreamWindow,
	"session_window":           EnvSessionWindow,
	"session_memory":           EnvSessionMemory,
	"memory":                   EnvMemory,
	"max_sessions":             EnvMaxSessions,
	"max_sessions_per_address": EnvMaxPerAddress,
	"max_handshakes":           EnvMaxHandshakes,
	"stream_open_rate":         EnvStreamOpenRate,
	"stream_open_burst":        EnvStreamOpenBurst,
	"trusted_proxy_header":     EnvProxyHeader,
	"trusted_proxies":          EnvTrustedProxies,
	"usage_interval":           EnvUsageInterval,
	"heartbeat_interval":       EnvHeartbeatInterval,
	"pending_limit":            EnvPendingLimit,
	"allow_targets":            EnvAllowTargets,
	"udp_max_flows":            EnvUDPMaxFlows,
	"udp_max_datagram":         EnvUDPMaxDatagram,
	"udp_rate":                 EnvUDPRate,
	"udp_idle_timeout":         EnvUDPIdleTimeout,
	"deny_ports":               EnvDenyPorts,
	"allow_ports":              EnvAllowPorts,
	"dns_timeout":              EnvDNSTimeout,
	"dns_concurrency":          EnvDNSConcurrency,
	"node_attempts":            EnvNodeAttempts,
	"replay_limit":             EnvReplayLimit,
	"node_probe_interval":      EnvNodeProbeInterval,
	"node_probe_for":           EnvNodeProbeFor,
	"node_spare_idle":          EnvNodeSpareIdle,
	"dial_report_gap":          EnvDialReportGap,
	"revalidate_interval":      EnvRevalidate,
	"lease_bytes":              EnvLeaseBytes,
	"keepalive_interval":       EnvKeepaliveInterval,
}

// source picks, per variable, the environment when it sets the variable and the file otherwise.
type source struct {
	env      *config.Env
	file     *config.Env
	fileVars map[string]string
	path     string
}

func newSource(env *config.Env) *source {
	s := &source{env: env, path: env.String(EnvConfigFile, "")}
	if s.path == "" {
		return s
	}
	vars, err := readConfigFile(s.path)
	if err != nil {
		env.Failf(EnvConfigFile, "%v", err)
		return s
	}
	s.fileVars, s.file = vars, config.FromMap(vars)
	return s
}

func (s *source) get(name string) *config.Env {
	if _, inFile := s.fileVars[name]; !inFile || s.env.String(name, "") != "" {
		return s.env
	}
	return s.file
}

func (s *source) finish() {
	if s.file == nil {
		return
	}
	if err := s.file.Err(); err != nil {
		s.env.Failf(EnvConfigFile, "%s: %v", s.path, err)
	}
}

func readConfigFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	vars := make(map[string]string, len(raw))
	for key, value := range raw {
		name, ok := fileKeys[key]
		if !ok {
			return nil, fmt.Errorf("%s: unknown key %q (known: %s)", path, key, strings.Join(knownFileKeys(), ", "))
		}
		text, err := scalarText(value)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: %w", path, key, err)
		}
		vars[name] = text
	}
	return vars, nil
}

func scalarText(value any) (string, error) {
	switch v := value.(type) {
	case nil:
		return "", nil
	case []any:
		parts := make([]string, 0, len(v))
		for _, item := range v {
			text, err := scalarText(item)
			if err != nil {
				return "", err
			}
			parts = append(parts, text)
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		return "", fmt.Errorf("want a value or a list, not a mapping")
	default:
		return fmt.Sprint(v), nil
	}
}

func knownFileKeys() []string {
	keys := make([]string, 0, len(fileKeys))
	for k := range fileKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
