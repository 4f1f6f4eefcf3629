package session

import (
	"context"
	"fmt"
	"math"
	"sync"
)

// credit is how many bytes the gateway may still send to the client on one stream.
type credit struct {
	limited bool
	mu      sync.Mutex
	avail   int64
	more    chan struct{}
}

func newCredit(limited bool, window int) *credit {
	return &credit{limited: limited, avail: int64(window), more: make(chan struct{}, 1)}
}

// wait returns how many bytes (at most max) may be sent now, waiting for credit if none.
func (c *credit) wait(ctx context.Context, max int) (int, bool) {
	if !c.limited {
		return max, true
	}
	for {
		c.mu.Lock()
		avail := c.avail
		c.mu.Unlock()
		if avail > 0 {
			return int(min(avail, int64(max))), true
		}
		select {
		case <-c.more:
		case <-ctx.Done():
			return 0, false
		}
	}
}

func (c *credit) spend(n int) {
	if !c.limited {
		return
	}
	c.mu.Lock()
	c.avail -= int64(n)
	c.mu.Unlock()
}

func (c *credit) add(n uint32) error {
	c.mu.Lock()
	if c.avail+int64(n) > math.MaxInt32 {
		c.mu.Unlock()
		return fmt.Errorf("stream_window credit of %d would raise the window past %d bytes", n, math.MaxInt32)
	}
	c.avail += int64(n)
	c.mu.Unlock()
	signal(c.more)
	return nil
}
