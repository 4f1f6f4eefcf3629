package httvps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

type runner interface {
	Run(ctx context.Context) error
}

type component struct {
	name string
	svc  runner
}

type running struct {
	name   string
	cancel context.CancelFunc
	done   chan error
}

type group struct {
	log     zerolog.Logger
	mu      sync.Mutex
	started []running
	failed  chan error
}

func newGroup(log zerolog.Logger) *group {
	return &group{log: log, failed: make(chan error, 16)}
}

func (g *group) start(parent context.Context, c component) {
	ctx, cancel := context.WithCancel(parent)
	r := running{name: c.name, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := c.svc.Run(ctx)
		if err != nil && ctx.Err() == nil {
			g.failed <- fmt.Errorf("%s: %w", c.name, err)
		} else if err == nil && ctx.Err() == nil {
			g.failed <- fmt.Errorf("%s: stopped unexpectedly", c.name)
		}
		r.done <- err
	}()
	g.mu.Lock()
	g.started = append(g.started, r)
	g.mu.Unlock()
}

func (g *group) stopAll(deadline time.Duration) error {
	g.mu.Lock()
	started := append([]running(nil), g.started...)
	g.mu.Unlock()
	timeout := time.After(deadline)
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		r := started[i]
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
			}
			g.log.Info().Str("component", r.name).Msg("stopped")
		case <-timeout:
			return fmt.Errorf("shutdown deadline %s passed while stopping %s", deadline, r.name)
		}
	}
	return errors.Join(errs...)
}
