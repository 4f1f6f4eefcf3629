package natsx

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

type ConnectConfig struct {
	URL           string
	Name          string
	Auth          Auth
	ReconnectWait time.Duration
	Timeout       time.Duration
	BufferSize    int
	// InOrder tries the comma-separated servers of URL in the order given instead of shuffled.
	InOrder bool
	// OnAsyncError, when set, also hears every asynchronous error (such as a permissions violation).
	OnAsyncError func(error)
}

func Connect(ctx context.Context, cfg ConnectConfig, log zerolog.Logger) (*nats.Conn, error) {
	wait := cfg.ReconnectWait
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn().Err(err).Msg("nats disconnected")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("nats reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Error().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("nats async error")
			if cfg.OnAsyncError != nil {
				cfg.OnAsyncError(err)
			}
		}),
	}
	auth, err := cfg.Auth.Options()
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	opts = append(opts, auth...)
	if cfg.InOrder {
		opts = append(opts, nats.DontRandomize())
	}
	if cfg.BufferSize > 0 {
		opts = append(opts, nats.ReconnectBufSize(cfg.BufferSize))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", RedactURLs(cfg.URL), err)
	}
	return nc, nil
}
