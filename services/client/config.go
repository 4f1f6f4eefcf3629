// Package client is the reference HTTVPS client: a session to a gateway over TLS WebSocket
// with multiplexed streams (Dial, Session.OpenStream), a Tunnel that keeps a session up with
// capped exponential backoff, and a SOCKS5 front end. docs/client.md describes its use.
package client

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/httvps/httvps/shared/config"
)

const Version = "1.0.0"

const (
	EnvGateway     = "HTTVPS_CLIENT_GATEWAY"
	EnvCA          = "HTTVPS_CLIENT_CA"
	EnvInsecure    = "HTTVPS_CLIENT_INSECURE"
	EnvDeviceID    = "HTTVPS_CLIENT_DEVICE_ID"
	EnvToken       = "HTTVPS_CLIENT_TOKEN"
	EnvRegion      = "HTTVPS_CLIENT_REGION"
	EnvPlatform    = "HTTVPS_CLIENT_PLATFORM"
	EnvBinary      = "HTTVPS_CLIENT_BINARY"
	EnvFlowControl = "HTTVPS_CLIENT_FLOW_CONTROL"
	EnvConfirm     = "HTTVPS_CLIENT_STREAM_CONFIRM"
	EnvUDP         = "HTTVPS_CLIENT_UDP"
	EnvJSON        = "HTTVPS_CLIENT_JSON"
	EnvMaxWindow   = "HTTVPS_CLIENT_MAX_WINDOW"
	EnvSOCKS       = "HTTVPS_CLIENT_SOCKS"
	EnvConnectWait = "HTTVPS_CLIENT_CONNECT_WAIT"
	EnvDialTimeout = "HTTVPS_CLIENT_DIAL_TIMEOUT"
	EnvBackoffMin  = "HTTVPS_CLIENT_BACKOFF_MIN"
	EnvBackoffMax  = "HTTVPS_CLIENT_BACKOFF_MAX"
	EnvLogLevel    = "HTTVPS_CLIENT_LOG_LEVEL"
)

// ConnectWaitAuto lets the SOCKS front end wait for a stream's refusal about two round trips
// to the gateway before it reports success (see Config.ConnectWait).
const ConnectWaitAuto time.Duration = -1

type Config struct {
	// Gateway is the WebSocket URL of the gateway, e.g. wss://127.0.0.1:8443/ws.
	Gateway string
	// CAFile is a PEM file of certificates to trust for the gateway; empty uses the system roots.
	CAFile string
	// Insecure skips verification of the gateway's certificate (development certificate only).
	Insecure bool

	DeviceID      string
	Token         string
	Region        string
	ClientVersion string
	Platform      string

	// Binary asks for binary stream frames, FlowControl for per-stream credit and Confirm for
	// stream confirmation, UDP for UDP flows (Session.ListenUDP, SOCKS5 UDP ASSOCIATE); all
	// four are on by default. SpecOnly turns them off.
	Binary      bool
	FlowControl bool
	Confirm     bool
	UDP         bool

	// MaxWindow is the largest receive window one stream grows to with flow control;
	// SessionWindow bounds the growth of all streams of a session together.
	MaxWindow     int
	SessionWindow int

	DialTimeout  time.Duration
	HelloTimeout time.Duration
	WriteTimeout time.Duration
	// RecvBuffer bounds the bytes buffered per stream when flow control is off.
	RecvBuffer int

	// ConnectWait is how long the SOCKS front end waits for the gateway to refuse a stream
	// before it reports success; ConnectWaitAuto adapts it to the round trip, 0 replies at once.
	ConnectWait time.Duration
	SOCKS       string

	BackoffMin  time.Duration
	BackoffMax  time.Duration
	StableAfter time.Duration
	LogLevel    string
}

func DefaultConfig() Config {
	return Config{
		Gateway:       "wss://127.0.0.1:8443/ws",
		Region:        "",
		ClientVersion: Version,
		Platform:      runtime.GOOS,
		DialTimeout:   10 * time.Second,
		HelloTimeout:  15 * time.Second,
		WriteTimeout:  15 * time.Second,
		Binary:        true,
		FlowControl:   true,
		Confirm:       true,
		UDP:           true,
		MaxWindow:     8 << 20,
		SessionWindow: 32 << 20,
		RecvBuffer:    256 << 10,
		ConnectWait:   ConnectWaitAuto,
		SOCKS:         "127.0.0.1:1080",
		BackoffMin:    500 * time.Millisecond,
		BackoffMax:    30 * time.Second,
		StableAfter:   30 * time.Second,
		LogLevel:      "info",
	}
}

// SpecOnly turns off every negotiated feature: JSON frames as in the specification.
func (c *Config) SpecOnly() {
	c.Binary, c.FlowControl, c.Confirm, c.UDP = false, false, false, false
}

// LoadConfig reads the HTTVPS_CLIENT_* variables over the defaults; problems are collected in
// env (see env.Err). HTTVPS_CLIENT_JSON=true asks for spec-only JSON frames.
func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	c := Config{
		Gateway:       env.String(EnvGateway, d.Gateway),
		CAFile:        env.String(EnvCA, d.CAFile),
		Insecure:      env.Bool(EnvInsecure, d.Insecure),
		DeviceID:      env.String(EnvDeviceID, ""),
		Token:         env.String(EnvToken, ""),
		Region:        env.String(EnvRegion, d.Region),
		ClientVersion: d.ClientVersion,
		Platform:      env.String(EnvPlatform, d.Platform),
		Binary:        env.Bool(EnvBinary, d.Binary),
		FlowControl:   env.Bool(EnvFlowControl, d.FlowControl),
		Confirm:       env.Bool(EnvConfirm, d.Confirm),
		UDP:           env.Bool(EnvUDP, d.UDP),
		MaxWindow:     env.Int(EnvMaxWindow, d.MaxWindow, 16<<10, 1<<30),
		SessionWindow: d.SessionWindow,
		DialTimeout:   env.Duration(EnvDialTimeout, d.DialTimeout, 100*time.Millisecond),
		HelloTimeout:  d.HelloTimeout,
		WriteTimeout:  d.WriteTimeout,
		RecvBuffer:    d.RecvBuffer,
		SOCKS:         env.HostPort(EnvSOCKS, d.SOCKS),
		BackoffMin:    env.Duration(EnvBackoffMin, d.BackoffMin, 10*time.Millisecond),
		BackoffMax:    env.Duration(EnvBackoffMax, d.BackoffMax, 10*time.Millisecond),
		StableAfter:   d.StableAfter,
		LogLevel:      env.OneOf(EnvLogLevel, d.LogLevel, "trace", "debug", "info", "warn", "error"),
	}
	if env.Bool(EnvJSON, false) {
		c.SpecOnly()
	}
	wait, err := ParseConnectWait(env.String(EnvConnectWait, "auto"))
	if err != nil {
		env.Failf(EnvConnectWait, "%v", err)
	}
	c.ConnectWait = wait
	return c
}

// ParseConnectWait reads "auto" or a duration such as 200ms (0 replies at once).
func ParseConnectWait(s string) (time.Duration, error) {
	if strings.EqualFold(strings.TrimSpace(s), "auto") {
		return ConnectWaitAuto, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is neither \"auto\" nor a duration such as 200ms", s)
	}
	return d, nil
}

// Validate checks what a session needs; the error names the setting.
func (c Config) Validate() error {
	u, err := url.Parse(c.Gateway)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("gateway %q: want a URL such as wss://gateway.example:8443/ws", c.Gateway)
	case u.Scheme != "wss" && u.Scheme != "ws":
		return fmt.Errorf("gateway %q: the scheme must be wss (or ws behind a TLS terminator)", c.Gateway)
	case c.DeviceID == "":
		return errors.New("device id: required (--device-id or " + EnvDeviceID + ")")
	case c.Token == "":
		return errors.New("token: required (--token or " + EnvToken + ")")
	case c.Region == "":
		return errors.New("region: required (--region or " + EnvRegion + ")")
	case c.CAFile != "" && c.Insecure:
		return errors.New("give either a CA file or --insecure, not both")
	case c.DialTimeout <= 0 || c.HelloTimeout <= 0 || c.WriteTimeout <= 0:
		return errors.New("dial, hello and write timeouts must be positive")
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("backoff: the minimum (%s) must be positive and at most the maximum (%s)", c.BackoffMin, c.BackoffMax)
	case c.RecvBuffer < 1<<10:
		return errors.New("receive buffer: at least 1 KiB")
	}
	return nil
}
