// Command httvps-client connects to an HTTVPS gateway and serves a local SOCKS5 proxy through
// it. docs/client.md lists the flags, the environment and the exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/httvps/httvps/services/client"
	"github.com/httvps/httvps/shared/config"
	"github.com/rs/zerolog"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitRefused = 3
)

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func main() {
	os.Exit(exitCode(run(os.Args[1:]), os.Stderr))
}

// exitCode reports err on w and returns the process's exit code (docs/client.md).
func exitCode(err error, w io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(w, "httvps-client:", describe(err))
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case client.IsDefinitive(err):
		return exitRefused
	}
	return exitFailure
}

func describe(err error) string {
	if ge, ok := client.AsGatewayError(err); ok {
		return ge.Error()
	}
	return err.Error()
}

func run(args []string) error {
	cfg, err := parse(args, config.FromOS())
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", cfg.SOCKS)
	if err != nil {
		return fmt.Errorf("SOCKS listener on %s: %w", cfg.SOCKS, err)
	}
	log.Info().Msgf("SOCKS5 proxy on %s (try: curl --socks5-hostname %s https://example.com)", ln.Addr(), ln.Addr())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tunnel := client.NewTunnel(cfg, log)
	socks := &client.SOCKSServer{Opener: tunnel, Log: log}
	served := make(chan error, 1)
	go func() { served <- socks.Serve(runCtx, ln) }()

	tunnelErr := tunnel.Run(runCtx)
	cancel()
	serveErr := <-served
	if tunnelErr != nil {
		return tunnelErr
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info().Msg("stopped")
	return nil
}

func parse(args []string, env *config.Env) (client.Config, error) {
	cfg := client.LoadConfig(env)
	if err := env.Err(); err != nil {
		return cfg, &usageError{err}
	}
	fs := flag.NewFlagSet("httvps-client", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: httvps-client --gateway wss://HOST:PORT/ws --device-id ID --token TOKEN --region CODE [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nEvery flag can also be set with its HTTVPS_CLIENT_* variable (docs/client.md).\n")
	}
	var tokenFile, connectWait string
	var version, specOnly bool
	fs.StringVar(&cfg.Gateway, "gateway", cfg.Gateway, "gateway WebSocket URL ("+client.EnvGateway+")")
	fs.StringVar(&cfg.CAFile, "ca", cfg.CAFile, "PEM file with the CA that signed the gateway's certificate ("+client.EnvCA+")")
	fs.BoolVar(&cfg.Insecure, "insecure", cfg.Insecure, "do not verify the gateway's certificate, for the development certificate only ("+client.EnvInsecure+")")
	fs.StringVar(&cfg.DeviceID, "device-id", cfg.DeviceID, "device id ("+client.EnvDeviceID+")")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "device access token; prefer "+client.EnvToken+" or --token-file, command lines are visible to other users")
	fs.StringVar(&tokenFile, "token-file", "", "file holding the device access token")
	fs.StringVar(&cfg.Region, "region", cfg.Region, "region code, e.g. eu-1 ("+client.EnvRegion+")")
	fs.StringVar(&cfg.Platform, "platform", cfg.Platform, "platform sent in hello ("+client.EnvPlatform+")")
	fs.BoolVar(&specOnly, "json", false, "spec-only JSON frames: no binary frames, flow control, stream confirmation or UDP ("+client.EnvJSON+")")
	fs.BoolVar(&cfg.Binary, "binary", cfg.Binary, "binary stream frames ("+client.EnvBinary+")")
	fs.BoolVar(&cfg.FlowControl, "flow-control", cfg.FlowControl, "per-stream credit flow control with auto-tuned windows ("+client.EnvFlowControl+")")
	fs.BoolVar(&cfg.Confirm, "stream-confirm", cfg.Confirm, "the gateway confirms each stream, so SOCKS CONNECT answers as soon as the node took it ("+client.EnvConfirm+")")
	fs.BoolVar(&cfg.UDP, "udp", cfg.UDP, "carry UDP flows: SOCKS5 UDP ASSOCIATE ("+client.EnvUDP+")")
	fs.IntVar(&cfg.MaxWindow, "max-window", cfg.MaxWindow, "largest receive window of one stream in bytes ("+client.EnvMaxWindow+")")
	fs.StringVar(&cfg.SOCKS, "socks", cfg.SOCKS, "SOCKS5 listen address ("+client.EnvSOCKS+")")
	fs.StringVar(&connectWait, "connect-wait", "auto", "without stream confirmation: how long a SOCKS CONNECT waits for the gateway to refuse the target: auto, 0 or a duration ("+client.EnvConnectWait+")")
	fs.DurationVar(&cfg.DialTimeout, "dial-timeout", cfg.DialTimeout, "connect and TLS/WebSocket handshake timeout ("+client.EnvDialTimeout+")")
	fs.DurationVar(&cfg.BackoffMin, "backoff-min", cfg.BackoffMin, "first reconnection delay ("+client.EnvBackoffMin+")")
	fs.DurationVar(&cfg.BackoffMax, "backoff-max", cfg.BackoffMax, "largest reconnection delay ("+client.EnvBackoffMax+")")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "trace, debug, info, warn or error ("+client.EnvLogLevel+")")
	fs.BoolVar(&version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, &usageError{err}
	}
	if version {
		fmt.Println("httvps-client", client.Version)
		return cfg, flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return cfg, &usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if specOnly {
		cfg.SpecOnly()
	}
	if set["connect-wait"] {
		d, err := client.ParseConnectWait(connectWait)
		if err != nil {
			return cfg, &usageError{fmt.Errorf("--connect-wait: %w", err)}
		}
		cfg.ConnectWait = d
	}
	if tokenFile != "" {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return cfg, &usageError{fmt.Errorf("--token-file: %w", err)}
		}
		cfg.Token = strings.TrimSpace(string(data))
	}
	if _, err := zerolog.ParseLevel(cfg.LogLevel); err != nil || cfg.LogLevel == "" {
		return cfg, &usageError{fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", cfg.LogLevel)}
	}
	if _, _, err := net.SplitHostPort(cfg.SOCKS); err != nil {
		return cfg, &usageError{fmt.Errorf("--socks %q: want host:port", cfg.SOCKS)}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{err}
	}
	return cfg, nil
}

func newLogger(level string) zerolog.Logger {
	lvl, _ := zerolog.ParseLevel(level)
	w := zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly, NoColor: !isTerminal(os.Stderr)}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
