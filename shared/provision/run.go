package provision

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"io"
	"time"

	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

const (
	attemptTimeout = 10 * time.Second
	retryWait      = 250 * time.Millisecond
)

// Run connects as the provisioner, waits for JetStream, provisions, and writes one line per
// stream and consumer to out. A refused identity or a permissions violation ends it at once; a
// cluster that is still starting is retried until cfg.Timeout.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	ctx, refuse := context.WithCancelCause(ctx)
	defer refuse(nil)
	nc, err := connect(ctx, cfg, func(err error) {
		if isPermissionViolation(err) {
			refuse(fmt.Errorf("%s: this identity may not provision (%v); give the provisioner's seed (httvps-identity init makes it)", natsx.EnvNkeyFile, err))
		}
	})
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	steps, err := provision(ctx, js, cfg)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if _, err := fmt.Fprintln(out, s); err != nil {
			return err
		}
	}
	return nil
}

func connect(ctx context.Context, cfg Config, onAsync func(error)) (*nats.Conn, error) {
	if _, err := cfg.NATSAuth.Options(); err != nil {
		return nil, fmt.Errorf("%s: %w", natsx.EnvNkeyFile, err)
	}
	cc := natsx.ConnectConfig{URL: cfg.NATSURL, Name: "httvps-provision", Auth: cfg.NATSAuth, Timeout: attemptTimeout, OnAsyncError: onAsync}
	for {
		nc, err := natsx.Connect(ctx, cc, zerolog.Nop())
		if err == nil {
			return nc, nil
		}
		if !unreachable(err) {
			return nil, connectError(err)
		}
		if !pause.For(ctx, retryWait) {
			return nil, fmt.Errorf("%s: %w (gave up after %s, %s)", natsx.EnvURL, err, cfg.Timeout, EnvTimeout)
		}
	}
}

// provision runs natsx.ProvisionSteps until it succeeds, fails for good, or time is up; a step
// created or updated by an earlier attempt keeps that action.
func provision(ctx context.Context, js jetstream.JetStream, cfg Config) ([]natsx.Step, error) {
	first := map[string]natsx.Step{}
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		steps, err := natsx.ProvisionSteps(actx, js, cfg.Streams)
		cancel()
		for i, s := range steps {
			key := s.Kind + " " + s.Stream + " " + s.Name
			if prev, ok := first[key]; ok && s.Action == natsx.ActionUnchanged {
				steps[i].Action = prev.Action
			} else if !ok {
				first[key] = s
			}
		}
		switch {
		case err == nil:
			return steps, nil
		case context.Cause(ctx) != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded):
			return nil, context.Cause(ctx)
		case !clusterForming(err):
			return nil, err
		case !pause.For(ctx, retryWait):
			return nil, fmt.Errorf("%w (gave up after %s, %s)", err, cfg.Timeout, EnvTimeout)
		}
	}
}
