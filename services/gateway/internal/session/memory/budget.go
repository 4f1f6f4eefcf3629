// Package memory charges what a gateway holds for its clients against budgets: one per
// session under one for the whole gateway. A charge that does not fit waits (the session
// stops reading its WebSocket) until memory is released, or is refused.
package memory

import (
	"context"
	"sync"
)

// Budget is a limit of bytes, nested in an optional parent: a charge must fit in both.
type Budget struct {
	limit  int64
	parent *Budget

	mu    sync.Mutex
	used  int64
	freed chan struct{}
}

// New is a budget of limit bytes inside parent (nil for the top).
func New(limit int64, parent *Budget) *Budget {
	return &Budget{limit: limit, parent: parent, freed: make(chan struct{})}
}

// TryCharge charges n bytes if they fit in this budget and its parents, else charges nothing.
func (b *Budget) TryCharge(n int64) bool {
	b.mu.Lock()
	if b.used+n > b.limit {
		b.mu.Unlock()
		return false
	}
	b.used += n
	b.mu.Unlock()
	if b.parent != nil && !b.parent.TryCharge(n) {
		b.release(n)
		return false
	}
	return true
}

// Charge waits until n bytes fit, then charges them; it fails when ctx ends first.
func (b *Budget) Charge(ctx context.Context, n int64) error {
	for {
		wait := b.waitChan()
		var parentWait chan struct{}
		if b.parent != nil {
			parentWait = b.parent.waitChan()
		}
		if b.TryCharge(n) {
			return nil
		}
		select {
		case <-wait:
		case <-parentWait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Budget) waitChan() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.freed
}

// Release gives n charged bytes back and wakes the charges waiting for them.
func (b *Budget) Release(n int64) {
	if n == 0 {
		return
	}
	b.release(n)
	if b.parent != nil {
		b.parent.Release(n)
	}
}

func (b *Budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// Used is what is charged now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

func (b *Budget) Limit() int64 { return b.limit }
