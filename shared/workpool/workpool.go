// Package workpool runs short-lived tasks on goroutines kept between tasks, like a sync.Pool of
// goroutines: a task starts on a stack that already grew to what such tasks need, instead of
// growing (copying) a fresh small stack several times, which for a network stream costs more
// CPU than its first byte. Idle goroutines exit after the pool's keep time.
package workpool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pool keeps at most maxIdle goroutines waiting for tasks, each for at most keep.
type Pool struct {
	work    chan func()
	idle    atomic.Int32
	maxIdle int32
	keep    time.Duration
}

func New(maxIdle int, keep time.Duration) *Pool {
	return &Pool{work: make(chan func()), maxIdle: int32(maxIdle), keep: keep}
}

// Go runs f on an idle goroutine of the pool, or on a new one if none waits.
func (p *Pool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		go p.loop(f)
	}
}

// GoIn runs f as Go does, as part of wg (as wg.Go would).
func (p *Pool) GoIn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	p.Go(func() {
		defer wg.Done()
		f()
	})
}

// Idle is the number of goroutines waiting for a task.
func (p *Pool) Idle() int { return int(p.idle.Load()) }

func (p *Pool) loop(f func()) {
	t := time.NewTimer(p.keep)
	defer t.Stop()
	for {
		f()
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		t.Reset(p.keep)
		select {
		case f = <-p.work:
			p.idle.Add(-1)
		case <-t.C:
			p.idle.Add(-1)
			return
		}
	}
}
