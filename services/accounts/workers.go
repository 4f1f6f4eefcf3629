package accounts

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/micro"
)

// workers serves micro requests on a fixed set of goroutines: a micro endpoint
// otherwise handles its requests one after another.
type workers struct {
	jobs     chan job
	done     chan struct{}
	wg       sync.WaitGroup
	inflight atomic.Int64
	lastSeen atomic.Int64
	stopOnce sync.Once
}

type job struct {
	h micro.Handler
	r micro.Request
}

func newWorkers(n int) *workers {
	w := &workers{jobs: make(chan job, n), done: make(chan struct{})}
	for range n {
		w.wg.Go(w.loop)
	}
	return w
}

func (w *workers) loop() {
	for {
		select {
		case j := <-w.jobs:
			w.run(j)
		case <-w.done:
			for {
				select {
				case j := <-w.jobs:
					w.run(j)
				default:
					return
				}
			}
		}
	}
}

func (w *workers) run(j job) {
	defer w.inflight.Add(-1)
	j.h.Handle(j.r)
}

func (w *workers) wrap(h micro.Handler) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		w.inflight.Add(1)
		w.lastSeen.Store(time.Now().UnixNano())
		select {
		case <-w.done:
		default:
			select {
			case w.jobs <- job{h: h, r: r}:
				return
			case <-w.done:
			}
		}
		w.inflight.Add(-1)
		_ = r.Error(string(schemas.CodeBackendUnavailable), "accounts is shutting down", nil)
	})
}

// drain returns once no request runs or waits and none arrived for quiet (requests still
// queued in a draining subscription keep arriving after micro's Stop), or at ctx's end.
func (w *workers) drain(ctx context.Context, quiet time.Duration) {
	t := time.NewTicker(quiet / 4)
	defer t.Stop()
	for {
		if w.inflight.Load() == 0 && time.Since(time.Unix(0, w.lastSeen.Load())) >= quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the worker goroutines after they finish what is queued.
func (w *workers) stop() {
	w.stopOnce.Do(func() { close(w.done) })
	w.wg.Wait()
}
