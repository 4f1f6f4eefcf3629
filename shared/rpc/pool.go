package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/micro"
)

// Pool serves micro requests on n long-lived goroutines: a micro endpoint alone handles its
// requests one after another. When all are busy the endpoint waits, which pushes back on NATS.
type Pool struct {
	service  string
	jobs     chan poolJob
	done     chan struct{}
	wg       sync.WaitGroup
	inflight atomic.Int64
	lastSeen atomic.Int64
	stopOnce sync.Once
}

type poolJob struct {
	h micro.Handler
	r micro.Request
}

func NewPool(n int, service string) *Pool {
	p := &Pool{service: service, jobs: make(chan poolJob, n), done: make(chan struct{})}
	for range n {
		p.wg.Go(p.loop)
	}
	return p
}

func (p *Pool) loop() {
	for {
		select {
		case j := <-p.jobs:
			p.run(j)
		case <-p.done:
			for {
				select {
				case j := <-p.jobs:
					p.run(j)
				default:
					return
				}
			}
		}
	}
}

func (p *Pool) run(j poolJob) {
	defer p.inflight.Add(-1)
	j.h.Handle(j.r)
}

func (p *Pool) Wrap(h micro.Handler) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		p.inflight.Add(1)
		p.lastSeen.Store(time.Now().UnixNano())
		select {
		case <-p.done:
		default:
			select {
			case p.jobs <- poolJob{h: h, r: r}:
				return
			case <-p.done:
			}
		}
		p.inflight.Add(-1)
		_ = r.Error(string(schemas.CodeBackendUnavailable), p.service+" is shutting down", nil)
	})
}

// Drain returns once no request runs or waits and none arrived for quiet (requests queued in a
// draining subscription keep arriving after micro's Stop), or when ctx ends.
func (p *Pool) Drain(ctx context.Context, quiet time.Duration) {
	t := time.NewTicker(quiet / 4)
	defer t.Stop()
	for p.inflight.Load() != 0 || time.Since(time.Unix(0, p.lastSeen.Load())) < quiet {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close refuses requests from now on and returns once the queued ones are served.
func (p *Pool) Close() {
	p.stopOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}
