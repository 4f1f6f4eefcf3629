package flow

import "sync"

// Budget is the window growth that the streams of one session may still take.
type Budget struct {
	mu   sync.Mutex
	free int64
}

func NewBudget(n int) *Budget { return &Budget{free: int64(n)} }

// take reserves up to n bytes and returns how many it got.
func (b *Budget) take(n int64) int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	got := min(n, b.free)
	b.free -= got
	return got
}

func (b *Budget) give(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
}

// Free is what remains to be taken.
func (b *Budget) Free() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(b.free)
}
