package flow

import (
	"sync"
	"time"
)

const (
	// grantDivisor: credit is granted back once a quarter of the window was consumed.
	grantDivisor = 4
	// growthFloor: a window used up within this time may grow whatever the round trip.
	growthFloor = 50 * time.Millisecond
)

// Use is what the receiver says along with bytes consumed: Flush grants whatever is pending
// (it has nothing left to consume right now), Buffered is what of the stream still waits to
// be consumed. A consumer that keeps its buffer under a quarter of the window keeps up, so
// the window, not the consumer, is what holds the stream back.
type Use struct {
	Flush    bool
	Buffered int
}

// Window is the receive window of one stream. The receiver reports what the application
// consumed; Window answers with the credit to grant, which includes growth when the window
// was used up fast compared to the round trip.
type Window struct {
	budget  *Budget
	initial int64
	max     int64

	mu         sync.Mutex
	size       int64
	pending    int64
	epochStart time.Time
	epochBytes int64
	closed     bool
}

// NewWindow starts, at now, a window of initial bytes that may grow to limit, taking growth
// from budget (nil: no growth).
func NewWindow(initial, limit int, budget *Budget, now time.Time) *Window {
	return &Window{budget: budget, initial: int64(initial), max: int64(max(initial, limit)), size: int64(initial), epochStart: now}
}

// Size is the current window.
func (w *Window) Size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return int(w.size)
}

// Consumed records n bytes consumed and returns the credit to grant now and how much of it is
// growth of the window (0, 0 while the credit is held back). rtt is the smoothed round trip
// of the session (0 when not known yet).
func (w *Window) Consumed(n int, use Use, rtt time.Duration, now time.Time) (credit, growth int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending += int64(n)
	if w.closed || w.pending == 0 || (!use.Flush && w.pending < max(1, w.size/grantDivisor)) {
		return 0, 0
	}
	w.epochBytes += w.pending
	grown := w.tune(int64(use.Buffered) <= w.size/grantDivisor, rtt, now)
	credit = int(w.pending + grown)
	w.pending = 0
	return credit, int(grown)
}

// tune doubles the window when more than half of it was consumed within a few round trips
// (or growthFloor) and the consumer keeps up; w.mu is held.
func (w *Window) tune(keepsUp bool, rtt time.Duration, now time.Time) int64 {
	if w.epochBytes <= w.size/2 {
		return 0
	}
	fraction := float64(w.epochBytes) / float64(w.size)
	fast := now.Sub(w.epochStart) < max(growthFloor, time.Duration(4*fraction*float64(rtt)))
	w.epochStart, w.epochBytes = now, 0
	if !fast || !keepsUp || w.size >= w.max {
		return 0
	}
	grown := w.budget.take(min(w.size, w.max-w.size))
	w.size += grown
	return grown
}

// Close returns the window's growth to the budget.
func (w *Window) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	w.budget.give(w.size - w.initial)
}
