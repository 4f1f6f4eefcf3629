package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

var errStreamGone = errors.New("stream is closed")

// inbox holds the client's data for one stream until it is written upstream. With flow
// control the client may have at most window bytes unacknowledged; without it, push waits
// while window bytes are queued.
type inbox struct {
	window int

	mu       sync.Mutex
	chunks   [][]byte
	queued   int
	unacked  int
	finished bool
	gone     bool
	ready    chan struct{}
	space    chan struct{}
}

func newInbox(window int) *inbox {
	return &inbox{window: window, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (b *inbox) push(ctx context.Context, p []byte, flow bool) error {
	b.mu.Lock()
	for {
		switch {
		case b.gone:
			b.mu.Unlock()
			return errStreamGone
		case b.finished:
			b.mu.Unlock()
			return errors.New("stream_data after the client's stream_close")
		case flow && b.unacked+len(p) > b.window:
			b.mu.Unlock()
			return fmt.Errorf("flow control: %d bytes sent beyond the window of %d", b.unacked+len(p)-b.window, b.window)
		case flow || b.queued < b.window:
			b.chunks = append(b.chunks, p)
			b.queued += len(p)
			b.unacked += len(p)
			b.mu.Unlock()
			signal(b.ready)
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.space:
		case <-ctx.Done():
			return errStreamGone
		}
		b.mu.Lock()
	}
}

func (b *inbox) finish() {
	b.mu.Lock()
	b.finished = true
	b.mu.Unlock()
	signal(b.ready)
}

func (b *inbox) close() {
	b.mu.Lock()
	b.gone = true
	b.chunks = nil
	b.mu.Unlock()
	signal(b.ready)
	signal(b.space)
}

// pop waits for the next chunk. fin is true once the client closed its side and everything
// before was taken; ok is false when the stream is gone.
func (b *inbox) pop(ctx context.Context) (chunk []byte, fin, ok bool) {
	for {
		b.mu.Lock()
		switch {
		case b.gone:
			b.mu.Unlock()
			return nil, false, false
		case len(b.chunks) > 0:
			chunk = b.chunks[0]
			b.chunks[0] = nil
			b.chunks = b.chunks[1:]
			b.mu.Unlock()
			return chunk, false, true
		case b.finished:
			b.mu.Unlock()
			return nil, true, true
		}
		b.mu.Unlock()
		select {
		case <-b.ready:
		case <-ctx.Done():
			return nil, false, false
		}
	}
}

// written records n bytes written upstream and reports whether the queue is now empty.
func (b *inbox) written(n int) (empty bool) {
	b.mu.Lock()
	b.queued -= n
	empty = len(b.chunks) == 0
	b.mu.Unlock()
	signal(b.space)
	return empty
}

// acked records credit granted back to the client: consumed bytes and growth of the window.
func (b *inbox) acked(consumed, growth int) {
	b.mu.Lock()
	b.unacked -= consumed
	b.window += growth
	b.mu.Unlock()
}

func (b *inbox) isFinished() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.finished
}
