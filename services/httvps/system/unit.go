package system

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/httvps/httvps/shared/app"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Runner is what every HTTVPS service is: it runs until ctx ends, then shuts down in order.
type Runner interface {
	Run(ctx context.Context) error
}

// Unit is one running copy of a service on its own NATS connection and metrics registry.
type Unit[S Runner] struct {
	Name     string
	Service  S
	NC       *nats.Conn
	Registry *prometheus.Registry

	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	stopping chan struct{}
	stopOnce sync.Once
	stopErr  error
	timeout  time.Duration
	log      zerolog.Logger
}

type stopper interface {
	Stop() error
	gatherer() prometheus.Gatherer
}

// run starts u.Service; failures (Run returning while nobody stopped it) go to failed.
func (u *Unit[S]) run(failed chan<- error) {
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel, u.done, u.stopping = cancel, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(u.done)
		u.err = u.Service.Run(ctx)
		select {
		case <-u.stopping:
		default:
			err := u.err
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			select {
			case failed <- fmt.Errorf("%s: %w", u.Name, err):
			default:
			}
		}
	}()
}

// Done is closed when the service's Run has returned.
func (u *Unit[S]) Done() <-chan struct{} { return u.done }

// Stop ends the service (its own shutdown, bounded by the system's shutdown timeout) and
// closes its NATS connection; it returns Run's error. Calling it again returns the same.
func (u *Unit[S]) Stop() error {
	u.stopOnce.Do(func() {
		close(u.stopping)
		u.cancel()
		select {
		case <-u.done:
			if u.err != nil && !errors.Is(u.err, context.Canceled) {
				u.stopErr = fmt.Errorf("%s: %w", u.Name, u.err)
			}
		case <-time.After(u.timeout):
			u.stopErr = fmt.Errorf("%s: not stopped within %s", u.Name, u.timeout)
		}
		app.CloseNATS(u.NC, time.Second, u.log)
		u.log.Debug().Str("component", u.Name).Msg("stopped")
	})
	return u.stopErr
}

func (u *Unit[S]) gatherer() prometheus.Gatherer { return u.Registry }
