package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/httvps/httvps/services/gateway/internal/session/memory"
)

var (
	errStreamGone = errors.New("stream is closed")
	errNoMemory   = errors.New("memory budget")
	errStalled    = errors.New("the target took none of the stream's queued data")
)

// segmentSize is the unit an inbox stores client data in: small frames are packed together, so
// what a stream holds in memory is its data plus at most one partly filled segment.
const segmentSize = 16 << 10

var segments = sync.Pool{New: func() any { b := make([]byte, segmentSize); return &b }}

// inbox holds the client's data for one stream until it is written upstream, packed in pooled
// segments charged to the session's memory budget. With flow control the client may have at
// most window bytes unacknowledged; without it, push waits while window bytes are queued.
type inbox struct {
	window int
	mem    *memory.Budget

	mu       sync.Mutex
	segs     []*[]byte
	head     int
	tail     int
	queued   int
	unacked  int
	finished bool
	gone     bool
	lent     bool
	ready    chan struct{}
	space    chan struct{}
}

func newInbox(window int, mem *memory.Budget) *inbox {
	return &inbox{window: window, mem: mem, tail: segmentSize, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push copies p into the inbox. A segment that does not fit the memory budget is waited for
// up to memWait (then errNoMemory), and so is room in a full window without flow control
// (then errStalled); ctx is the session's.
func (b *inbox) push(ctx context.Context, p []byte, flow bool, memWait time.Duration) error {
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
			if err := b.store(ctx, p, memWait); err != nil {
				b.mu.Unlock()
				return err
			}
			b.queued += len(p)
			b.unacked += len(p)
			b.mu.Unlock()
			signal(b.ready)
			return nil
		}
		b.mu.Unlock()
		if err := b.waitSpace(ctx, memWait); err != nil {
			return err
		}
		b.mu.Lock()
	}
}

func (b *inbox) waitSpace(ctx context.Context, limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-b.space:
		return nil
	case <-ctx.Done():
		return errStreamGone
	case <-t.C:
		return errStalled
	}
}

// store appends p to the segments, taking new ones as needed; b.mu is held and released while
// a charge waits.
func (b *inbox) store(ctx context.Context, p []byte, memWait time.Duration) error {
	for len(p) > 0 {
		if b.tail == segmentSize {
			if !b.mem.TryCharge(segmentSize) {
				b.mu.Unlock()
				wctx, cancel := context.WithTimeout(ctx, memWait)
				err := b.mem.Charge(wctx, segmentSize)
				cancel()
				b.mu.Lock()
				switch {
				case err != nil && ctx.Err() != nil:
					return errStreamGone
				case err != nil:
					return errNoMemory
				}
				if b.gone {
					b.mem.Release(segmentSize)
					return errStreamGone
				}
			}
			b.segs = append(b.segs, segments.Get().(*[]byte))
			b.tail = 0
		}
		n := copy((*b.segs[len(b.segs)-1])[b.tail:], p)
		b.tail += n
		p = p[n:]
	}
	return nil
}

func (b *inbox) finish() {
	b.mu.Lock()
	b.finished = true
	b.mu.Unlock()
	signal(b.ready)
}

// close drops what is queued and gives its memory back. A segment lent to a write in progress
// is left to the garbage collector rather than the pool.
func (b *inbox) close() {
	b.mu.Lock()
	b.gone = true
	held := len(b.segs)
	for i, seg := range b.segs {
		if i > 0 || !b.lent {
			segments.Put(seg)
		}
	}
	b.segs, b.head, b.tail = nil, 0, segmentSize
	b.mu.Unlock()
	b.mem.Release(int64(held * segmentSize))
	signal(b.ready)
	signal(b.space)
}

// pop waits for queued data and returns it without removing it: the caller hands back what
// it wrote with written before the next pop. fin is true once the client closed its side and
// everything before was taken; ok is false when the stream is gone.
func (b *inbox) pop(ctx context.Context) (chunk []byte, fin, ok bool) {
	for {
		b.mu.Lock()
		switch {
		case b.gone:
			b.mu.Unlock()
			return nil, false, false
		case b.queued > 0:
			end := segmentSize
			if len(b.segs) == 1 {
				end = b.tail
			}
			chunk = (*b.segs[0])[b.head:end]
			b.lent = true
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

// written removes the n bytes of the last pop that went upstream and returns how many are still
// queued.
func (b *inbox) written(n int) (queued int) {
	b.mu.Lock()
	b.lent = false
	if b.gone {
		b.mu.Unlock()
		return 0
	}
	b.queued -= n
	b.head += n
	freed := 0
	if b.head == segmentSize || (len(b.segs) == 1 && b.head == b.tail) {
		segments.Put(b.segs[0])
		b.segs[0] = nil
		b.segs = b.segs[1:]
		b.head = 0
		if len(b.segs) == 0 {
			b.segs, b.tail = nil, segmentSize
		}
		freed = segmentSize
	}
	queued = b.queued
	b.mu.Unlock()
	b.mem.Release(int64(freed))
	signal(b.space)
	return queued
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
